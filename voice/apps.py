from django.apps import AppConfig


class VoiceConfig(AppConfig):
    """Voice of the customer (顧客の声): feature requests with per-account evidence, ranked by the ARR
    asking, and NPS/CSAT survey responses with NPS per segment and period."""

    name = "voice"
    label = "voice"
