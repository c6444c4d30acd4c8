//! `ConsultationRequest` and its inputs and payloads.

use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::patient::{Patient, load_patient};
use crate::{
    domain::{
        intake::{RequestSource, RequestStatus},
        patient::{ContactChannel, split_codes},
    },
    entities::consultation_requests,
};

/// A request for a consultation, from the web form, a phone call or a
/// partner's booking widget.
pub struct ConsultationRequest(pub consultation_requests::Model);

/// A request for a consultation, from the web form, a phone call or a
/// partner's booking widget.
#[Object]
impl ConsultationRequest {
    /// The request's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Given name.
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }
    /// Family name.
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    /// Email (lower-cased).
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Phone in E.164.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// The channel the person prefers.
    async fn preferred_channel(&self) -> ContactChannel {
        self.0.preferred_channel
    }
    /// Channels the person consented to be contacted on (R-CONTACT).
    async fn consented_channels(&self) -> Vec<ContactChannel> {
        split_codes::<ContactChannel>(&self.0.consented_channels)
            .into_iter()
            .collect()
    }
    /// Version of the consent text the person was shown.
    async fn consent_text_version(&self) -> &str {
        &self.0.consent_text_version
    }
    /// When the consent was given.
    async fn consented_at(&self) -> Timestamp {
        self.0.consented_at.into()
    }
    /// How the request arrived.
    async fn source(&self) -> RequestSource {
        self.0.source
    }
    /// The partner's name, for partner requests.
    async fn source_detail(&self) -> Option<&str> {
        self.0.source_detail.as_deref()
    }
    /// The person's message.
    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }
    /// Times the person prefers to be seen or called.
    async fn preferred_times(&self) -> Option<&str> {
        self.0.preferred_times.as_deref()
    }
    /// Where the request stands.
    async fn status(&self) -> RequestStatus {
        self.0.status
    }
    /// The front desk's notes.
    async fn staff_notes(&self) -> &str {
        &self.0.staff_notes
    }
    /// Call-back attempts so far.
    async fn contact_attempts(&self) -> i32 {
        self.0.contact_attempts
    }
    /// The last call-back attempt.
    async fn last_contacted_at(&self) -> Option<Timestamp> {
        self.0.last_contacted_at.map(Into::into)
    }
    /// An existing patient with the same email or phone (R-DEDUP): a
    /// suggestion to link on conversion, never merged silently.
    async fn suggested_patient(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Patient>> {
        match self.0.suggested_patient_id {
            Some(id) => load_patient(ctx, id, "ConsultationRequest.suggestedPatient").await,
            None => Ok(None),
        }
    }
    /// The patient the request was converted to.
    async fn patient(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Patient>> {
        match self.0.patient_id {
            Some(id) => load_patient(ctx, id, "ConsultationRequest.patient").await,
            None => Ok(None),
        }
    }
    /// When the request arrived.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
    /// When it last changed.
    async fn updated_at(&self) -> Timestamp {
        self.0.updated_at.into()
    }
    /// Version for optimistic locking.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// A consultation request from the public web form or a partner widget.
#[derive(InputObject)]
pub struct SubmitConsultationRequestInput {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Email (needed to consent to EMAIL).
    pub email: Option<String>,
    /// Phone (needed to consent to PHONE or TEXT); US numbers may omit +1.
    pub phone: Option<String>,
    /// The channel the person prefers; must be among `consentedChannels`.
    pub preferred_channel: ContactChannel,
    /// Channels the person consents to be contacted on; empty is refused.
    pub consented_channels: Vec<ContactChannel>,
    /// Version of the consent text shown on the form.
    pub consent_text_version: String,
    /// The person's message.
    pub message: Option<String>,
    /// Times the person prefers.
    pub preferred_times: Option<String>,
    /// The hidden form field; humans leave it empty.
    pub honeypot: Option<String>,
    /// Retry-safe key: the same key from the same sender within 24 h
    /// returns the first result and creates nothing.
    pub idempotency_key: Option<String>,
}

/// The answer to a submission (the same for every accepted submission).
#[derive(SimpleObject)]
pub struct SubmitConsultationRequestPayload {
    /// The request's id, to quote when calling the clinic.
    pub request_id: ID,
    /// A message to show the person.
    pub message: String,
}

/// Staff changes to a request.
#[derive(InputObject)]
pub struct UpdateConsultationRequestInput {
    /// The request.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// New status (CONVERTED only through `convertConsultationRequest`).
    pub status: Option<RequestStatus>,
    /// Replaces the staff notes.
    pub staff_notes: Option<String>,
    /// True to count one call-back attempt now.
    #[graphql(default)]
    pub contact_attempted: bool,
}

/// The changed request.
#[derive(SimpleObject)]
pub struct UpdateConsultationRequestPayload {
    /// The request as it is now.
    pub consultation_request: ConsultationRequest,
}

/// Turns a request into a patient.
#[derive(InputObject)]
pub struct ConvertConsultationRequestInput {
    /// The request.
    pub id: ID,
    /// The `version` you last read.
    pub expected_version: i32,
    /// Link this existing patient instead of creating one.
    pub patient_id: Option<ID>,
    /// Link the suggested duplicate (R-DEDUP) instead of creating a patient.
    #[graphql(default)]
    pub use_suggested_patient: bool,
}

/// The converted request and its patient.
#[derive(SimpleObject)]
pub struct ConvertConsultationRequestPayload {
    /// The request, now CONVERTED.
    pub consultation_request: ConsultationRequest,
    /// The patient created or linked, with the consent carried over.
    pub patient: Patient,
}

/// Filters of the request worklist.
#[derive(InputObject, Default)]
pub struct ConsultationRequestFilter {
    /// Only this status; SPAM is listed only when asked for.
    pub status: Option<RequestStatus>,
}

crate::connection_types!(
    ConsultationRequestConnection,
    ConsultationRequestEdge,
    ConsultationRequest,
    "A page of consultation requests.",
    "A consultation request with its cursor."
);
