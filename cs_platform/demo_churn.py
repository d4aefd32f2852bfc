"""The demo's churn reasons: a note on every churn, in the CSM's words, and a reason of the team's own.

The ten default reasons are the workspace's (provisioning); demo.py gives each churned account one of
them. Here the team has also added a reason of its own, "merged into a group contract", used twice
and since archived, so the churn reasons page and the revenue report show an archived reason that
still names its accounts.
"""

from accounts import services as accounts
from accounts.models import Account, AccountStatus, ChurnReasonCategory

OWN_REASON = ("merged_group_contract", {"ja": "グループ契約へ統合", "en": "Merged into a group contract"})

# What a CSM wrote when the account churned, per reason (the demo's workspace is Japanese).
NOTES = {
    "onboarding_failure": {"ja": ["導入担当者が決まらず、初期設定が終わらないまま契約満了。",
                                  "キックオフ後に社内の優先度が下がり、本稼働に至らず。"],
                           "en": ["No one owned the rollout; set-up never finished before the term ended.",
                                  "Priorities moved after the kick-off; never went live."]},
    "low_usage": {"ja": ["利用者が3名まで減少。レポート機能が使われていなかった。"],
                  "en": ["Down to three users; reporting was never used."]},
    "champion_left": {"ja": ["推進者の部長が退職し、後任が他ツールを選定。"],
                      "en": ["The sponsoring director left; the successor chose another tool."]},
    "budget": {"ja": ["全社のコスト削減でSaaS契約を一斉見直し。"], "en": ["Company-wide cost cuts reviewed every SaaS contract."]},
    "competitor": {"ja": ["他社の一括契約に乗り換え。価格差が決め手。"], "en": ["Moved to a competitor's bundle; price decided it."]},
    "product_gap": {"ja": ["SSOと監査ログの要件を満たせなかった。"], "en": ["SSO and audit log requirements were not met."]},
    "business_closed": {"ja": ["親会社に吸収合併。"], "en": ["Absorbed by its parent company."]},
}


def seed_churn(workspace, rng, today, actor):
    """Notes on the churned accounts and the team's own, now archived, reason; a refresh repeats it."""
    language = "ja" if (workspace.language or "ja").startswith("ja") else "en"
    code, names = OWN_REASON
    own = ChurnReasonCategory.objects.for_workspace(workspace).filter(code=code).first()
    if own is None:
        own = accounts.save_churn_reason(workspace=workspace, actor=actor, code=code, name=names[language],
                                         position=10)
    churned = list(Account.objects.for_workspace(workspace).filter(status=AccountStatus.CHURNED)
                   .order_by("churned_on", "pk"))
    for account in churned[:2]:  # the two earliest churns of the period were group mergers
        account.churn_reason = own.code
    for account in churned:
        notes = NOTES.get(account.churn_reason, {}).get(language)
        account.churn_note = rng.choice(notes) if notes and rng.random() < 0.8 else ""
    Account.objects.for_workspace(workspace).bulk_update(churned, ["churn_reason", "churn_note"], batch_size=500)
    if not own.archived:
        accounts.save_churn_reason(workspace=workspace, actor=actor, reason=own, archived=True)
