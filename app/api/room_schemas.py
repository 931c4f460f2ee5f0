"""Request and response models of the live rooms (app/api/routes/rooms.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.rooms.view import MAX_QUERY_CHARS


class ViewIn(BaseModel):
    """A view as the page's address holds it: the path and the query (``?k=v&...``)."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(default="/", max_length=100, description="/, /lecture or /lecture/<id>.")
    query: str = Field(
        default="",
        description=f"The page's query, as static/js/core/state.js writes it ('' for the default"
        f" view), at most {MAX_QUERY_CHARS} characters (checked in app/rooms/view.py).",
    )


class RoomCreated(BaseModel):
    code: str = Field(description="8 characters of Crockford base32 (40 random bits).")
    display_code: str = Field(description="The code as shown: 'K7QM-4XPD'.")
    join_url: str = Field(description="What followers open (also in the QR code).")
    qr_url: str = Field(description="An SVG QR code of join_url.")
    secret: str = Field(
        description="The lecturer's secret: send as 'Authorization: Bearer <secret>' to"
        " publish or end. Shown once; the server keeps only its SHA-256 digest."
    )
    idle_seconds: int = Field(description="The room ends this long after the last publish.")


class RoomInfo(BaseModel):
    code: str
    display_code: str
    path: str
    query: str
    version: int = Field(description="Grows by one with each publish.")
    followers: int = Field(description="Followers connected now, over every process.")
    expires_in: float = Field(description="Seconds until the room ends unless published to.")


class Published(BaseModel):
    version: int
    followers: int
