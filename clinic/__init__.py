"""The clinic's side: enrollment (clinics, clinicians, invitations, study codes), alerts that
reach a person, the clinician's commands, and the audit of who saw what."""
