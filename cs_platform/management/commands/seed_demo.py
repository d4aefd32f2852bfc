from django.core.management.base import BaseCommand

from cs_platform.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create or refresh a demo workspace with a realistic CS team, customers and six months of history."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug, e.g. demo")
        parser.add_argument("--accounts", type=int, default=400, help="Number of customer accounts (default 400)")
        parser.add_argument("--seed", type=int, default=42, help="Random seed: the same seed gives the same data")
        parser.add_argument("--name", help="Workspace name (default derived from the slug)")

    def handle(self, *args, workspace, accounts, seed, name=None, **options):
        result = seed_demo(slug=workspace, accounts=accounts, seed=seed, name=name)
        ws = result.workspace
        self.stdout.write(self.style.SUCCESS(
            f"Workspace '{ws.name}' ({ws.slug}): {result.accounts} accounts, "
            f"{result.touchpoints} touchpoints, {result.events} usage events."
        ))
        self.stdout.write(f"Logins (password: {DEMO_PASSWORD}):")
        for username, role in result.logins:
            self.stdout.write(f"  {username:<22} {role}")
        self.stdout.write(f"API token of {ws.slug}-manager1: {result.api_token}")
        self.stdout.write(f"  curl -H 'Authorization: Token {result.api_token}' http://127.0.0.1:8000/api/v1/accounts/")
        if result.write_key:
            self.stdout.write(f"Usage write key (Segment/RudderStack SDKs, host http://127.0.0.1:8000): {result.write_key}")
