terraform {
  required_version = ">= 1.6" # an import block whose id is built from variables
  required_providers {
    okta = {
      source = "okta/okta"
      # channel_json (the whole channel, OAuth included) is in the 4.20 releases.
      version = "~> 4.20"
    }
  }
}

# The API token comes from OKTA_API_TOKEN, as for psc-hook register: never in a file.
provider "okta" {
  org_name = var.okta_org_name
  base_url = var.okta_base_url
}
