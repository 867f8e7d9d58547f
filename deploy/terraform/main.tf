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

# Okta calls the hook for the tokens this rule mints. To attach the hook to an existing
# rule instead: terraform import okta_auth_server_policy_rule.psc <aus>/<00p>/<0pr>
resource "okta_auth_server_policy_rule" "psc" {
  auth_server_id       = var.auth_server_id
  policy_id            = var.policy_id
  name                 = "Pro Santé Connect"
  status               = "ACTIVE"
  priority             = var.rule_priority
  group_whitelist      = var.group_ids
  grant_type_whitelist = ["authorization_code"]
  scope_whitelist      = ["*"]
  inline_hook_id       = local.inline_hook_id
}
