"""Encrypted attachments of a case (documents kept as proof): the facade the web and the API call."""
from caseapp.services.attachments.rules import check_file, set_size_limit, size_limit, sniff  # noqa: F401
from caseapp.services.attachments.store import (  # noqa: F401
    Download,
    addable_kinds,
    case_block,
    delete_for_victim,
    download,
    list_attachments,
    upload,
    visible,
)
