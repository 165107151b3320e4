"""The moderators' view of a signature's deliberation."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from ..models import Signature
from .storage import deliberation_response


@require_safe
def moderator_deliberation(request, public_id):
    """A signature's deliberation, for staff allowed into the admin who may view signatures."""
    # admin.site's own check: active staff, with a verified second factor when required.
    if not admin.site.has_permission(request) or not request.user.has_perm(
        "signatures.view_signature"
    ):
        raise PermissionDenied
    signature = get_object_or_404(Signature.objects.exclude(deliberation=""), public_id=public_id)
    return deliberation_response(signature)
