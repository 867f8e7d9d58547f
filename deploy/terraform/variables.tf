variable "okta_org_name" {
  description = "The org's subdomain: chu-exemple for https://chu-exemple.okta.com."
  type        = string
}

variable "okta_base_url" {
  description = "okta.com, oktapreview.com or okta-emea.com."
  type        = string
  default     = "okta.com"
}

variable "hook_url" {
  description = "The service's token hook endpoint, https://<host>/token-hook."
  type        = string
  validation {
    condition     = startswith(var.hook_url, "https://") && endswith(var.hook_url, "/token-hook")
    error_message = "Okta calls https:// URLs only, and the service answers on /token-hook."
  }
}

variable "auth_mode" {
  description = "How Okta authenticates its call: header (HOOK_SECRETS) or oauth (HOOK_OAUTH_*)."
  type        = string
  default     = "header"
  validation {
    condition     = contains(["header", "oauth"], var.auth_mode)
    error_message = "auth_mode is header or oauth."
  }
}

variable "hook_secret" {
  description = "Header mode: the first value of the service's HOOK_SECRETS (32 characters or more)."
  type        = string
  sensitive   = true
  default     = null
  validation {
    condition     = var.hook_secret == null || length(coalesce(var.hook_secret, "x")) >= 32
    error_message = "The service refuses secrets shorter than 32 characters."
  }
}

variable "auth_header" {
  description = "Header mode: the header Okta puts the secret in (the service's HOOK_AUTH_HEADER)."
  type        = string
  default     = "Authorization"
}

variable "oauth_client_id" {
  description = "OAuth mode: the API Services app Okta gets the hook's token with (docs/okta-setup.md)."
  type        = string
  default     = null
}

variable "oauth_client_secret" {
  description = "OAuth mode: that app's client secret (client_secret_post)."
  type        = string
  sensitive   = true
  default     = null
}

variable "oauth_token_url" {
  description = "OAuth mode: <issuer>/v1/token of the hook caller authorization server."
  type        = string
  default     = null
}

variable "oauth_scope" {
  description = "OAuth mode: the custom scope Okta requests (the service's HOOK_OAUTH_SCOPES)."
  type        = string
  default     = "psc.hook"
}

variable "auth_server_id" {
  description = "The PSC authorization server (aus...) whose access policy calls the hook."
  type        = string
}

variable "policy_id" {
  description = "Its access policy for the PSC app (00p...)."
  type        = string
}

variable "rule_id" {
  description = "The existing rule of that policy (0pr...) whose tokens get the hook; only its inline hook is set."
  type        = string
}
