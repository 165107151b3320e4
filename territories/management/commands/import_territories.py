import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from territories.models import Territory
from territories.referential import (
    ImportReport,
    default_data_dir,
    format_count,
    import_referential,
)


class Command(BaseCommand):
    # Plain text: argparse cannot format a lazy translation.
    help = (
        "Importe le référentiel officiel des territoires (régions, départements, COM, "
        "intercommunalités, communes) ; relancer l'import ne modifie que ce qui a changé."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help=_("Dossier des JSON de @etalab/decoupage-administratif (défaut : %s).")
            % default_data_dir(),
        )

    def handle(self, *args, data_dir: Path | None, **options):
        data_dir = data_dir or default_data_dir()
        if not (data_dir / "communes.json").is_file():
            raise CommandError(
                _("Données introuvables dans %s : lancez `npm ci` ou passez --data-dir.")
                % data_dir
            )
        started = time.monotonic()
        report = import_referential(data_dir, log=self.stdout.write)
        for line in report.adopted:
            self.stdout.write(_("Territoire ajouté par un signataire, adopté : %s") % line)
        for line in report.released:
            self.stderr.write(self.style.WARNING(_("À vérifier : %s") % line))
        for kind in Territory.Kind:
            if any(counts[kind] for counts in _all_counts(report)):
                self.stdout.write(f"  {kind.label} : {_summary(report, kind)}")
        self.stdout.write(
            self.style.SUCCESS(
                _("Total : %(summary)s, en %(seconds)s s.")
                % {
                    "summary": _summary(report),
                    "seconds": f"{time.monotonic() - started:.1f}".replace(".", ","),
                }
            )
        )


def _all_counts(report: ImportReport) -> tuple:
    return report.created, report.updated, report.unchanged, report.deactivated


def _summary(report: ImportReport, kind: str | None = None) -> str:
    """'12 créés, 3 mis à jour, …' for one kind, or for all when kind is None."""
    created, updated, unchanged, deactivated = (
        format_count(counts[kind] if kind else counts.total()) for counts in _all_counts(report)
    )
    return _(
        "%(created)s créés, %(updated)s mis à jour, %(unchanged)s inchangés, "
        "%(deactivated)s désactivés"
    ) % {
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "deactivated": deactivated,
    }
