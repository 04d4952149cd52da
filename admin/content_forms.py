"""Forms for what consumers read about a batch: stories, pictures and test reports.

Uploaded files are read here, whole and bounded; what they contain is judged by the core
(``tracemark.content.images``, ``tracemark.content.stories``), whose refusals become field errors.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from tracemark.content.images import MAX_IMAGE_BYTES
from tracemark.content.stories import MAX_DOCUMENT_BYTES
from tracemark.models import PublishState

#: Longest story source accepted.
MAX_STORY_LENGTH = 20_000
CHOOSE_FILE = _l("Choose a file.")
#: Core refusal reason → message, per kind of upload.
IMAGE_ERRORS = {
    "empty": CHOOSE_FILE,
    "too_large": _l("A picture can be at most 5 MB."),
    "too_many_pixels": _l("This picture has too many pixels (at most 40 megapixels)."),
    "type": _l("A picture must be a PNG, JPEG or WebP image."),
}
DOCUMENT_ERRORS = {
    "empty": CHOOSE_FILE,
    "too_large": _l("A document can be at most 10 MB."),
    "type": _l("A document must be a PDF file."),
    "unreadable": _l("This PDF cannot be read. Save it again from the program that made it."),
    "active": _l(
        "This PDF holds scripts, embedded files or other active content. Save it without "
        "them (for example by printing it to a new PDF)."
    ),
}
STATE_NAMES = {PublishState.DRAFT: _l("Draft"), PublishState.PUBLISHED: _l("Published")}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class StoryForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter a title.")), Length(max=200)],
    )
    body = TextAreaField(
        _l("Story (Markdown)"),
        validators=[DataRequired(_l("Write the story.")), Length(max=MAX_STORY_LENGTH)],
    )


class StateForm(FlaskForm):
    """Publish (``published``) or withdraw (``draft``) one thing."""

    state = HiddenField(validators=[AnyOf([state.value for state in PublishState])])

    def value(self) -> PublishState:
        return PublishState(self.state.data)


class _Upload(FlaskForm):
    file = FileField(_l("File"), validators=[FileRequired(CHOOSE_FILE)])
    #: Largest file accepted, in bytes (set by subclasses).
    limit = 0

    def read(self) -> bytes:
        """The uploaded bytes, at most one past :attr:`limit` (so a larger file shows)."""
        return self.file.data.read(self.limit + 1)

    def refuse(self, messages: dict, reason: str) -> None:
        self.file.errors = [*self.file.errors, messages[reason]]


class ImageForm(_Upload):
    file = FileField(_l("Picture (PNG, JPEG or WebP, at most 5 MB)"),
                     validators=[FileRequired(CHOOSE_FILE)])  # fmt: skip
    alt = StringField(
        _l("Description for people who cannot see it"),
        filters=[_strip],
        validators=[Optional(), Length(max=200)],
    )
    limit = MAX_IMAGE_BYTES


class DocumentForm(_Upload):
    file = FileField(_l("Report (PDF, at most 10 MB)"), validators=[FileRequired(CHOOSE_FILE)])
    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter a title.")), Length(max=200)],
    )
    issuer = StringField(
        _l("Issued by"), filters=[_strip], validators=[Optional(), Length(max=200)]
    )
    issued_on = DateField(_l("Date of issue"), validators=[Optional()])
    limit = MAX_DOCUMENT_BYTES
