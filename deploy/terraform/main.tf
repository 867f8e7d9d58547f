# The token inline hook and the access-policy rule that calls it: what `psc-hook register`
# does, as Terraform. One hook exists, in the auth mode chosen (header or oauth).

locals {
  # Okta's InlineHookCreate channel in each mode (tests/test_terraform.py checks both
  # against Okta's schema and the shapes of its examples).
  header_channel = {
    type    = "HTTP"
    version = "1.0.0"
    uri     = var.hook_url
    method  = "POST"
  }
  header_auth = {
    type  = "HEADER"
    key   = var.auth_header
    value = var.hook_secret
  }
  oauth_channel = {
    type    = "OAUTH"
    version = "1.0.0"
    config = {
      uri          = var.hook_url
      method       = "POST"
      authType     = "client_secret_post"
      clientId     = var.oauth_client_id
      clientSecret = var.oauth_client_secret
      tokenUrl     = var.oauth_token_url
      scope        = var.oauth_scope
    }
  }
  inline_hook_id = one(concat(okta_inline_hook.header[*].id, okta_inline_hook.oauth[*].id))
}

resource "okta_inline_hook" "header" {
  count   = var.auth_mode == "header" ? 1 : 0
  name    = "Pro Santé Connect claims (psc-token-hook)"
  type    = "com.okta.oauth2.tokens.transform"
  version = "1.0.0"
  status  = "ACTIVE"
  channel = local.header_channel
  auth    = local.header_auth

  lifecycle {
    precondition {
      condition     = var.hook_secret != null
      error_message = "Header mode needs hook_secret."
    }
  }
}

resource "okta_inline_hook" "oauth" {
  count        = var.auth_mode == "oauth" ? 1 : 0
  name         = "Pro Santé Connect claims (psc-token-hook)"
  type         = "com.okta.oauth2.tokens.transform"
  version      = "1.0.0"
  status       = "ACTIVE"
  channel_json = jsonencode(local.oauth_channel)

  lifecycle {
    precondition {
      condition = alltrue([
        for value in [var.oauth_client_id, var.oauth_client_secret, var.oauth_token_url] :
        value != null
      ])
      error_message = "OAuth mode needs oauth_client_id, oauth_client_secret and oauth_token_url."
    }
  }
}

# Okta calls the hook for the tokens of the PSC app's rule, which exists already: Terraform
# imports it, then sets its inline hook and nothing else. Every other field stays as Okta
# holds it (ignore_changes): its name, priority, status, people, grants, scopes, lifetimes.
import {
  to = okta_auth_server_policy_rule.psc
  id = "${var.auth_server_id}/${var.policy_id}/${var.rule_id}"
}

resource "okta_auth_server_policy_rule" "psc" {
  auth_server_id = var.auth_server_id
  policy_id      = var.policy_id
  inline_hook_id = local.inline_hook_id
  # The provider requires these three. They are never sent: the import above gives Terraform
  # the rule as it is, and ignore_changes keeps its own values.
  name                 = "the existing rule's own name"
  priority             = 1
  grant_type_whitelist = ["authorization_code"]

  lifecycle {
    # The rule is the PSC app's, not this example's: destroy refuses to delete it. To stop
    # managing it: terraform state rm okta_auth_server_policy_rule.psc
    prevent_destroy = true
    ignore_changes = [
      name,
      status,
      priority,
      type,
      grant_type_whitelist,
      scope_whitelist,
      group_whitelist,
      group_blacklist,
      user_whitelist,
      user_blacklist,
      access_token_lifetime_minutes,
      refresh_token_lifetime_minutes,
      refresh_token_window_minutes,
    ]
  }
}
