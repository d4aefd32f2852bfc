"""The policy's answer in templates, to show only what a member may use.

`{% if membership|allows:"health.backtest" %}` for workspace-wide actions;
`{% may membership "health.record_outcome" alert as can_record %}` when the answer depends on the row."""

from django import template

from ..policy import allows as policy_allows

register = template.Library()


@register.filter
def allows(membership, action):
    return membership is not None and policy_allows(membership, action)


@register.simple_tag
def may(membership, action, obj=None):
    return membership is not None and policy_allows(membership, action, obj)
