"""Category and attribute mappings: list, map, unmap, export, import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
from listing_sync.syncer.services import mappings
from listing_sync.syncer.services.mappings import Mapped, MappingTable, Unmapped
from listing_sync.syncer.web.api.common import (
    CHANGE_ERRORS,
    FILE_RESPONSES,
    READ_ERRORS,
    Download,
    download,
    uploaded,
)
from listing_sync.syncer.web.deps import ContextDep, Operator, Viewer
from pydantic import BaseModel, Field

router = APIRouter(tags=["mappings"])

Text = Annotated[str, Field(min_length=1, max_length=200)]
ChannelQuery = Annotated[str | None, Query(max_length=63)]


class Imported(BaseModel):
    created: int
    updated: int
    unchanged: int
    #: listings recomputed that now need a push
    dirty: int


def _imported(done: mappings.MappingsImported) -> Imported:
    result = done.result
    return Imported(created=result.created, updated=result.updated, unchanged=result.unchanged, dirty=done.dirty)


UploadedFile = Annotated[UploadFile, File(description="CSV or XLSX in the export's column set.")]


# ------------------------------------------------------------------------------------------ categories
@router.get("/mappings/categories", response_model=MappingTable, responses=READ_ERRORS)
def list_categories(context: ContextDep, user: Viewer, channel: ChannelQuery = None) -> MappingTable:
    """Our categories mapped to each channel's category id or product type."""
    return mappings.list_categories(context, channel)


class CategoryIn(BaseModel):
    channel: Text
    category: Text
    target: Text
    #: the marketplace attributes that category requires
    required: list[Text] = Field(default_factory=list, max_length=100)


@router.put("/mappings/categories", response_model=Mapped, responses=CHANGE_ERRORS)
def map_category(context: ContextDep, user: Operator, body: CategoryIn) -> Mapped:
    """Map one of our categories to a channel's category (replacing an existing mapping)."""
    return mappings.map_category(context, body.channel, body.category, body.target, body.required)


@router.delete("/mappings/categories", response_model=Unmapped, responses=CHANGE_ERRORS)
def unmap_category(
    context: ContextDep,
    user: Operator,
    channel: Annotated[str, Query(max_length=63)],
    category: Annotated[str, Query(max_length=200)],
) -> Unmapped:
    """Remove a category mapping (its SKUs can no longer be published on that channel)."""
    return mappings.unmap_category(context, channel, category)


@router.get("/mappings/categories/export", response_class=Response, responses=READ_ERRORS | FILE_RESPONSES)
def export_categories(context: ContextDep, user: Viewer, format: Download = Download.CSV) -> Response:
    return download(format, "categories", lambda fmt, out: mappings.export_categories(context, fmt=fmt, out=out))


@router.post("/mappings/categories/import", response_model=Imported, responses=CHANGE_ERRORS)
def import_categories(context: ContextDep, user: Operator, file: UploadedFile) -> Imported:
    """Import category mappings: the whole file is validated first; nothing is applied unless it is clean."""
    with uploaded(file) as path:
        return _imported(mappings.import_categories(context, path))


# ------------------------------------------------------------------------------------------ attributes
@router.get("/mappings/attributes", response_model=MappingTable, responses=READ_ERRORS)
def list_attributes(context: ContextDep, user: Viewer, channel: ChannelQuery = None) -> MappingTable:
    """Which of our attributes (or constants) fill which marketplace attributes, with value translations."""
    return mappings.list_attributes(context, channel)


class AttributeIn(BaseModel):
    channel: Text
    target: Text
    #: our attribute (``@brand`` for the product's brand); or give ``constant``
    attribute: Annotated[str, Field(max_length=200)] = ""
    constant: Annotated[str, Field(max_length=500)] = ""
    category: Text = "*"
    #: our value -> the marketplace's (白色 -> White)
    values: dict[Text, Annotated[str, Field(max_length=500)]] = Field(default_factory=dict, max_length=1000)
    replace_values: bool = False


@router.put("/mappings/attributes", response_model=Mapped, responses=CHANGE_ERRORS)
def map_attribute(context: ContextDep, user: Operator, body: AttributeIn) -> Mapped:
    """Map a marketplace attribute to one of ours (or a constant) for a category ('*' = all)."""
    return mappings.map_attribute(
        context,
        body.channel,
        body.target,
        attribute=body.attribute,
        constant=body.constant,
        category=body.category,
        values=body.values,
        replace_values=body.replace_values,
    )


@router.delete("/mappings/attributes", response_model=Unmapped, responses=CHANGE_ERRORS)
def unmap_attribute(
    context: ContextDep,
    user: Operator,
    channel: Annotated[str, Query(max_length=63)],
    target: Annotated[str, Query(max_length=200)],
    category: Annotated[str, Query(max_length=200)] = "*",
) -> Unmapped:
    return mappings.unmap_attribute(context, channel, target, category)


@router.get("/mappings/attributes/export", response_class=Response, responses=READ_ERRORS | FILE_RESPONSES)
def export_attributes(context: ContextDep, user: Viewer, format: Download = Download.CSV) -> Response:
    return download(format, "attributes", lambda fmt, out: mappings.export_attributes(context, fmt=fmt, out=out))


@router.post("/mappings/attributes/import", response_model=Imported, responses=CHANGE_ERRORS)
def import_attributes(context: ContextDep, user: Operator, file: UploadedFile) -> Imported:
    """Import attribute mappings: the whole file is validated first; nothing is applied unless it is clean."""
    with uploaded(file) as path:
        return _imported(mappings.import_attributes(context, path))
