output "inline_hook_id" {
  description = "The hook's id (cal...), as Okta's Admin Console shows it."
  value       = local.inline_hook_id
}
