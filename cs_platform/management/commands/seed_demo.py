from django.core.management.base import BaseCommand

from cs_platform.demo import seed_demo, sign_in_text


class Command(BaseCommand):
    help = "Create or refresh a demo workspace with a realistic CS team, customers and six months of history."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace slug, e.g. demo")
        parser.add_argument("--accounts", type=int, default=400, help="Number of customer accounts (default 400)")
        parser.add_argument("--seed", type=int, default=42, help="Random seed: the same seed gives the same data")
        parser.add_argument("--name", help="Workspace name (default derived from the slug)")
        parser.add_argument("--url", default="http://127.0.0.1:8000",
                            help="Where the server answers, for the printed examples (default http://127.0.0.1:8000)")
        parser.add_argument("--no-logins", action="store_true",
                            help="Leave out the sign-in lines (`make run` prints them last, with serve_demo)")

    def handle(self, *args, workspace, accounts, seed, url, no_logins=False, name=None, **options):
        url = url.rstrip("/")
        result = seed_demo(slug=workspace, accounts=accounts, seed=seed, name=name)
        ws = result.workspace
        self.stdout.write(self.style.SUCCESS(
            f"Workspace '{ws.name}' ({ws.slug}): {result.accounts} accounts, "
            f"{result.touchpoints} touchpoints, {result.events} usage events."
        ))
        self.stdout.write(f"API token of {ws.slug}-manager1: {result.api_token}")
        self.stdout.write(f"  curl -H 'Authorization: Token {result.api_token}' {url}/api/v1/accounts/")
        if result.write_key:
            self.stdout.write(f"Usage write key (Segment/RudderStack SDKs, host {url}): {result.write_key}")
        if not no_logins:
            self.stdout.write(sign_in_text(ws.slug, url))
