import json

from django.core.management.base import BaseCommand, CommandError

from partnerapp.sandbox.services import outbox_summary, owner_find


class Command(BaseCommand):
    help = "Show what the sandbox sent: every email (and letter by post), sends per document."

    def add_arguments(self, parser):
        parser.add_argument("--owner", help="an owner's email or id; default: every owner")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="print the outbox.json document"
        )

    def handle(self, *args, owner, as_json: bool, **options):
        owner_id = _owner_id(owner) if owner else None
        summary = outbox_summary(owner_id=owner_id)
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False))
            return
        self.stdout.write(f"{summary['count']} emails, {summary['post']['count']} by post")
        for document, sends in sorted(summary["sends_per_document"].items()):
            flag = "" if sends == 1 else "  <- sent more than once"
            self.stdout.write(f"  email {document}: {sends}{flag}")
        for document, sends in sorted(summary["post"]["sends_per_document"].items()):
            flag = "" if sends == 1 else "  <- sent more than once"
            self.stdout.write(f"  post  {document}: {sends}{flag}")


def _owner_id(value: str) -> int:
    owner = owner_find(value)
    if owner is None:
        raise CommandError(f"no sandbox owner {value!r}")
    return owner.pk
