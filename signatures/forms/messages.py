"""What the signing form and the confirmation page say of a territory already signed."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from declarations.models import Declaration

from ..models import Signature


def already_signed_message(declaration: Declaration, live: Signature):
    """Says when, links to the public entry and to the contest form; never which address signed."""
    territory = live.territory
    signed_on = (
        formats.date_format(timezone.localtime(live.confirmed_at), "j F Y")
        if live.confirmed_at
        else ""
    )
    contest = format_html(
        '<a href="{}">{}</a>',
        reverse("signatures:contest", kwargs={"public_id": live.public_id}),
        _("Ce n'est pas nous ? Signalez-le aux modérateurs"),
    )
    if live.status == Signature.Status.PUBLISHED:
        url = reverse("public:list", kwargs={"slug": declaration.slug})
        return format_html(
            '{} <a href="{}?{}#signature-{}">{}</a>. {} {}',
            _("%(territory)s a déjà signé la déclaration le %(date)s, par %(signatory)s.")
            % {
                "territory": territory.name,
                "date": signed_on,
                "signatory": live.public_signatory,
            },
            url,
            urlencode({"q": territory.name}),
            live.public_id,
            _("Voir sa signature publique"),
            contest,
            _write_to_the_team(),
        )
    return format_html(
        "{} {} {}",
        _(
            "%(territory)s a déjà signé la déclaration le %(date)s ; "
            "la signature est en cours de vérification."
        )
        % {"territory": territory.name, "date": signed_on},
        contest,
        _write_to_the_team(),
    )


def _write_to_the_team():
    return format_html('<a href="{}">{}</a>', reverse("public:contact"), _("Écrire à l'équipe"))
