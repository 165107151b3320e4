"""Apply the retention periods now, as the hourly task does, and say what changed."""

from django.core.management.base import BaseCommand

from signatures.retention import apply_retention


class Command(BaseCommand):
    help = (
        "Applique maintenant les durées de conservation (RETENTION_*), comme la tâche "
        "horaire signatures.apply_retention, et affiche le nombre de lignes par règle."
    )

    def handle(self, *args, **options):
        done = apply_retention()
        width = max(len(name) for name in done)
        for name, count in done.items():
            self.stdout.write(f"{name:<{width}}  {count}")
        self.stdout.write(self.style.SUCCESS(f"Total : {sum(done.values())}"))
