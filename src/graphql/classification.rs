//! Which fields carry free text or a clinical signal, and who may read
//! them: the one list of them. Free text is where clinical facts end up
//! whatever a field was meant for (a cancellation reason reading "pregnant
//! 16 weeks"), and a signal such as "an adverse event was reported" is a
//! clinical fact without a word of text.
//!
//! The field guards enforce these classes; `tests/api/field_access.rs`
//! holds every field of the schema to them for every role and partner
//! scope, at the root and through every relation, and fails for a text
//! field that is not listed here, so a new one cannot go unclassified.

/// Who may read a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sensitivity {
    /// Clinical: admins and providers only; never the front desk or a
    /// partner.
    Clinical,
    /// Staff only; never a partner, whatever its scopes.
    Staff,
    /// Whoever may read the object: staff, and partners whose scope reaches
    /// it (a patient's name with `patients:read`, a provider's name on the
    /// schedule).
    Shared,
}

/// Every free-text field of the schema (and every clinical signal that is
/// not text), as `Type.field`, with its class.
pub const FREE_TEXT_AND_SIGNALS: &[(&str, Sensitivity)] = {
    use Sensitivity::{Clinical, Shared, Staff};
    &[
        // Clinical signals that are not text.
        ("Procedure.adverseEventFlaggedAt", Clinical),
        // Staff administration that is not text.
        ("User.supervisesAmendments", Staff),
        // Free text.
        ("AdverseEvent.description", Clinical),
        ("AftercareStep.avoid", Staff),
        ("AftercareStep.expectedEffects", Staff),
        ("AftercareStep.instructions", Staff),
        ("AmendedField.field", Clinical),
        ("ApiClient.keyPrefix", Staff),
        ("ApiClient.name", Staff),
        ("ApiClient.scopes", Staff),
        ("AuditEvent.actorRole", Staff),
        ("AuditEvent.clientIp", Staff),
        ("AuditEvent.entityType", Staff),
        ("AuditEvent.operation", Staff),
        ("AuditEvent.requestId", Staff),
        ("Cartridge.lotNumber", Clinical),
        ("Cartridge.needleGeometry", Clinical),
        ("Cartridge.serial", Clinical),
        ("ChannelConsent.consentTextVersion", Shared),
        ("ChannelConsent.source", Shared),
        ("ChartedRecord.clinicalNotes", Clinical),
        ("ChartedRecord.immediateResponse", Clinical),
        ("ClinicPolicy.timeZone", Shared),
        ("Consultation.cancelReason", Clinical),
        ("ConsultationAssessment.notes", Clinical),
        ("ConsultationRequest.consentTextVersion", Staff),
        ("ConsultationRequest.email", Staff),
        ("ConsultationRequest.firstName", Staff),
        ("ConsultationRequest.lastName", Staff),
        ("ConsultationRequest.message", Staff),
        ("ConsultationRequest.phone", Staff),
        ("ConsultationRequest.preferredTimes", Staff),
        ("ConsultationRequest.sourceDetail", Staff),
        ("ConsultationRequest.staffNotes", Staff),
        ("Device.manufacturer", Staff),
        ("Device.model", Staff),
        ("Device.notes", Staff),
        ("Device.regulatoryId", Staff),
        ("Device.serial", Staff),
        ("DeviceSession.depthOverrideReason", Clinical),
        ("DeviceSession.glideMedium", Clinical),
        ("DeviceSession.speedSetting", Clinical),
        ("FollowUp.cancelReason", Staff),
        ("FollowUp.notes", Clinical),
        ("InformedConsent.signerName", Staff),
        ("InformedConsent.templateVersion", Staff),
        ("License.issuingState", Staff),
        ("License.number", Staff),
        ("MedicalHistory.allergies", Clinical),
        ("MedicalHistory.medications", Clinical),
        ("MedicalHistory.notes", Clinical),
        ("Patient.chartNumber", Shared),
        ("Patient.email", Shared),
        ("Patient.firstName", Shared),
        ("Patient.lastName", Shared),
        ("Patient.phone", Shared),
        ("Patient.preferredName", Shared),
        ("Patient.pronouns", Shared),
        ("Patient.sexAtBirth", Shared),
        ("PhotoReference.url", Clinical),
        ("PostalAddress.city", Shared),
        ("PostalAddress.country", Shared),
        ("PostalAddress.line1", Shared),
        ("PostalAddress.line2", Shared),
        ("PostalAddress.postalCode", Shared),
        ("PostalAddress.region", Shared),
        ("PrepRecord.numbingProduct", Clinical),
        ("Procedure.cancelReason", Staff),
        ("Procedure.clinicalNotes", Clinical),
        ("Procedure.immediateResponse", Clinical),
        ("Procedure.screeningOverrideReason", Clinical),
        ("ProcedureAmendment.reason", Clinical),
        ("Screening.overrideReason", Clinical),
        ("TreatmentPlan.goals", Clinical),
        ("User.displayName", Shared),
        ("User.email", Staff),
        ("WebhookDelivery.lastError", Staff),
        ("WebhookDelivery.payload", Staff),
        ("WebhookEndpoint.url", Staff),
    ]
};

/// Types a partner reaches only through a relation, by design, although
/// no root field of theirs admits it: a provider's name and role on the
/// schedule (their email and licence stay staff-only).
pub const REACHED_ONLY_NESTED: &[&str] = &["User"];

/// The class of `Type.field`, if it is listed.
pub fn sensitivity(type_and_field: &str) -> Option<Sensitivity> {
    FREE_TEXT_AND_SIGNALS
        .iter()
        .find(|(name, _)| *name == type_and_field)
        .map(|(_, class)| *class)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_is_listed_once() {
        let mut names: Vec<_> = FREE_TEXT_AND_SIGNALS
            .iter()
            .map(|(name, _)| *name)
            .collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a field is listed twice");
        assert_eq!(
            sensitivity("Consultation.cancelReason"),
            Some(Sensitivity::Clinical)
        );
        assert_eq!(sensitivity("Patient.nothing"), None);
    }
}
