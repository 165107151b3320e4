"""The pages a French public site owes its visitors: privacy notice, legal notice,
accessibility statement and contact form. Their facts come from settings, so
what they state is what the site is configured to do."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from core.forms import refuse_post
from signatures.retention import OUTGOING_EMAIL_KEPT

from .forms import ContactForm, ContactSubject
from .services import submit_contact_message

CONTACT_RATE = "5/h"
# When docs/accessibility.md's self-assessment was last turned into the statement:
# change it with the statement.
ACCESSIBILITY_STATEMENT_DATE = datetime.date(2026, 11, 29)


def _publisher() -> dict:
    return {
        "publisher_name": settings.PUBLISHER_NAME,
        "publisher_address": settings.PUBLISHER_ADDRESS,
        "publication_director": settings.PUBLICATION_DIRECTOR,
        "host_name": settings.HOST_NAME,
        "host_address": settings.HOST_ADDRESS,
        "contact_email": settings.CONTACT_EMAIL,
    }


@require_safe
def privacy(request):
    return render(
        request,
        "public/pages/privacy.html",
        {
            **_publisher(),
            "privacy_email": settings.PRIVACY_EMAIL or settings.CONTACT_EMAIL,
            "retention_unconfirmed_days": settings.RETENTION_UNCONFIRMED_DAYS,
            "retention_source_days": settings.RETENTION_SOURCE_DAYS,
            "retention_ended_days": settings.RETENTION_ENDED_DAYS,
            "retention_after_close_days": settings.RETENTION_AFTER_CLOSE_DAYS,
            "outgoing_email_kept_days": OUTGOING_EMAIL_KEPT.days,
        },
    )


@require_safe
def legal(request):
    return render(request, "public/pages/legal.html", _publisher())


@require_safe
def accessibility(request):
    return render(
        request,
        "public/pages/accessibility.html",
        {
            **_publisher(),
            "site_url": settings.SITE_URL or request.build_absolute_uri("/").rstrip("/"),
            "statement_date": ACCESSIBILITY_STATEMENT_DATE,
        },
    )


@require_http_methods(["GET", "POST"])
def contact(request):
    """Without CONTACT_EMAIL there is nowhere to send a message: no form."""
    if not settings.CONTACT_EMAIL:
        status = 200 if request.method == "GET" else 503
        return render(request, "public/pages/contact.html", {"form": None}, status=status)
    form = ContactForm(request.POST or None, initial=_initial_subject(request))
    context = {"form": form, "contact_email": settings.CONTACT_EMAIL}
    if request.method == "GET":
        return render(request, "public/pages/contact.html", context)
    if refusal := refuse_post(
        request,
        scope="contact",
        rate=CONTACT_RATE,
        template="public/pages/contact.html",
        context=context,
        form=form,
        too_many=_("Trop de messages depuis votre connexion. Réessayez dans une heure."),
    ):
        return refusal
    if not form.is_spam:  # a robot sees the same answer, nothing is sent
        submit_contact_message(**form.message_fields())
    messages.success(
        request, _("Merci, votre message est transmis. Nous vous répondrons par e-mail.")
    )
    return redirect("public:contact")


def _initial_subject(request) -> dict:
    """?objet=accessibility preselects the subject (the accessibility statement links so)."""
    subject = request.GET.get("objet", "")
    return {"subject": subject} if subject in ContactSubject.values else {}
