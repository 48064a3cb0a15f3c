"""Family members who also receive assistance (indirect victims, Law 985), and their own assistance steps."""
from caseapp.services.family.members import (
    add_member,
    add_member_step,
    assisted_count,
    list_members,
    members_of,
    update_member,
)

__all__ = ["add_member", "add_member_step", "assisted_count", "list_members", "members_of", "update_member"]
