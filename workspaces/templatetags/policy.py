"""`{% if membership|allows:"health.backtest" %}`: the policy's answer, to show what a member may use."""

from django import template

from ..policy import allows as policy_allows

register = template.Library()


@register.filter
def allows(membership, action):
    return membership is not None and policy_allows(membership, action)
