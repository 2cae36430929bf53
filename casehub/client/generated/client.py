from collections.abc import AsyncIterator
from typing import Any, Optional, Union

from .accept_request import AcceptRequest
from .acknowledge_request import AcknowledgeRequest
from .add_evidence import AddEvidence
from .agencies import Agencies
from .approve_request import ApproveRequest
from .async_base_client import AsyncBaseClient
from .base_model import UNSET, UnsetType
from .create_request import CreateRequest
from .decline_request import DeclineRequest
from .evidence_digests import EvidenceDigests
from .fulfil_request import FulfilRequest
from .inbox import Inbox
from .input_types import (
    AddEvidenceInput,
    ApproveCooperationRequestInput,
    CreateCooperationRequestInput,
    FulfilCooperationRequestInput,
    OpenCaseInput,
    RequestReasonInput,
    RequestStepInput,
)
from .open_case import OpenCase
from .request import Request
from .request_verification import RequestVerification
from .submit_request import SubmitRequest
from .viewer import Viewer


def gql(q: str) -> str:
    return q


class GeneratedClient(AsyncBaseClient):
    async def viewer(self, **kwargs: Any) -> Viewer:
        query = gql("""
            query Viewer {
              viewer {
                name
                principalId
                roles
                agency {
                  id
                  code
                  name
                  jurisdiction
                  kind
                }
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="Viewer", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Viewer.model_validate(data)

    async def request(self, id: str, **kwargs: Any) -> Request:
        query = gql("""
            query Request($id: ID!) {
              node(id: $id) {
                __typename
                ... on CooperationRequest {
                  ...RequestContent
                  events {
                    ...RequestEventFields
                  }
                  messages {
                    kind
                    body
                    authorAgency {
                      code
                    }
                  }
                }
              }
            }

            fragment RequestContent on CooperationRequest {
              id
              kind
              priority
              legalBasis
              title
              status
              outcome
              version
              requester {
                id
                code
              }
              requested {
                id
                code
                kind
              }
              body
              particulars {
                offence
                dataToPreserve
                custodianOrLocation
                followUpMla
                imminentThreat
                accountIdentifiers {
                  kind
                  value
                  platform
                  chain
                }
                contentLocations
              }
              evidence {
                role
                evidenceId
                sha256
              }
            }

            fragment RequestEventFields on RequestEvent {
              id
              seq
              number
              action
              fromStatus
              toStatus
              occurredAt
              requestId
              actorAgency {
                id
                code
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="Request", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Request.model_validate(data)

    async def agencies(
        self, after: Union[Optional[str], UnsetType] = UNSET, **kwargs: Any
    ) -> Agencies:
        query = gql("""
            query Agencies($after: String) {
              agencies(first: 100, after: $after) {
                edges {
                  node {
                    id
                    code
                    name
                    jurisdiction
                    kind
                  }
                }
                pageInfo {
                  hasNextPage
                  endCursor
                }
              }
            }
            """)
        variables: dict[str, object] = {"after": after}
        response = await self.execute(
            query=query, operation_name="Agencies", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Agencies.model_validate(data)

    async def request_verification(self, id: str, **kwargs: Any) -> RequestVerification:
        query = gql("""
            query RequestVerification($id: ID!) {
              node(id: $id) {
                __typename
                ... on CooperationRequest {
                  ...RequestContent
                  messages {
                    kind
                    body
                  }
                  verification {
                    eventNumber
                    action
                    status
                    reason
                    required
                    signatures {
                      role
                      eventNumber
                      statement
                      signature
                      status
                      reason
                      agency {
                        id
                        code
                      }
                      key {
                        thumbprint
                        publicKey
                        accreditation {
                          statement
                          signature
                          hubKey
                        }
                        revocation {
                          statement
                          signature
                        }
                      }
                    }
                  }
                }
              }
            }

            fragment RequestContent on CooperationRequest {
              id
              kind
              priority
              legalBasis
              title
              status
              outcome
              version
              requester {
                id
                code
              }
              requested {
                id
                code
                kind
              }
              body
              particulars {
                offence
                dataToPreserve
                custodianOrLocation
                followUpMla
                imminentThreat
                accountIdentifiers {
                  kind
                  value
                  platform
                  chain
                }
                contentLocations
              }
              evidence {
                role
                evidenceId
                sha256
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query,
            operation_name="RequestVerification",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return RequestVerification.model_validate(data)

    async def evidence_digests(self, ids: list[str], **kwargs: Any) -> EvidenceDigests:
        query = gql("""
            query EvidenceDigests($ids: [ID!]!) {
              nodes(ids: $ids) {
                __typename
                ... on Evidence {
                  id
                  sha256
                }
              }
            }
            """)
        variables: dict[str, object] = {"ids": ids}
        response = await self.execute(
            query=query, operation_name="EvidenceDigests", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return EvidenceDigests.model_validate(data)

    async def open_case(self, input: OpenCaseInput, **kwargs: Any) -> OpenCase:
        query = gql("""
            mutation OpenCase($input: OpenCaseInput!) {
              openCase(input: $input) {
                case {
                  id
                  reference
                  title
                }
                errors {
                  ...UserErrorFields
                }
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="OpenCase", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return OpenCase.model_validate(data)

    async def add_evidence(self, input: AddEvidenceInput, **kwargs: Any) -> AddEvidence:
        query = gql("""
            mutation AddEvidence($input: AddEvidenceInput!) {
              addEvidence(input: $input) {
                evidence {
                  id
                  kind
                  title
                  sha256
                  sizeBytes
                  mediaType
                }
                errors {
                  ...UserErrorFields
                }
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="AddEvidence", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return AddEvidence.model_validate(data)

    async def create_request(
        self, input: CreateCooperationRequestInput, **kwargs: Any
    ) -> CreateRequest:
        query = gql("""
            mutation CreateRequest($input: CreateCooperationRequestInput!) {
              createCooperationRequest(input: $input) {
                ...RequestPayloadFields
              }
            }

            fragment RequestContent on CooperationRequest {
              id
              kind
              priority
              legalBasis
              title
              status
              outcome
              version
              requester {
                id
                code
              }
              requested {
                id
                code
                kind
              }
              body
              particulars {
                offence
                dataToPreserve
                custodianOrLocation
                followUpMla
                imminentThreat
                accountIdentifiers {
                  kind
                  value
                  platform
                  chain
                }
                contentLocations
              }
              evidence {
                role
                evidenceId
                sha256
              }
            }

            fragment RequestPayloadFields on CooperationRequestPayload {
              request {
                ...RequestContent
              }
              errors {
                ...UserErrorFields
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="CreateRequest", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CreateRequest.model_validate(data)

    async def submit_request(
        self, input: RequestStepInput, **kwargs: Any
    ) -> SubmitRequest:
        query = gql("""
            mutation SubmitRequest($input: RequestStepInput!) {
              submitCooperationRequest(input: $input) {
                ...RequestPayloadFields
              }
            }

            fragment RequestContent on CooperationRequest {
              id
              kind
              priority
              legalBasis
              title
              status
              outcome
              version
              requester {
                id
                code
              }
              requested {
                id
                code
                kind
              }
              body
              particulars {
                offence
                dataToPreserve
                custodianOrLocation
                followUpMla
                imminentThreat
                accountIdentifiers {
                  kind
                  value
                  platform
                  chain
                }
                contentLocations
              }
              evidence {
                role
                evidenceId
                sha256
              }
            }

            fragment RequestPayloadFields on CooperationRequestPayload {
              request {
                ...RequestContent
              }
              errors {
                ...UserErrorFields
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="SubmitRequest", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return SubmitRequest.model_validate(data)

    async def acknowledge_request(
        self, input: RequestStepInput, **kwargs: Any
    ) -> AcknowledgeRequest:
        query = gql("""
            mutation AcknowledgeRequest($input: RequestStepInput!) {
              acknowledgeCooperationRequest(input: $input) {
                ...RequestPayloadFields
              }
            }

            fragment RequestContent on CooperationRequest {
              id
              kind
              priority
              legalBasis
              title
              status
              outcome
              version
              requester {
                id
                code
              }
              requested {
                id
                code
                kind
              }
              body
              particulars {
                offence
                dataToPreserve
                custodianOrLocation
                followUpMla
                imminentThreat
                accountIdentifiers {
                  kind
                  value
                  platform
                  chain
                }
                contentLocations
              }
              evidence {
                role
                evidenceId
                sha256
              }
            }

            fragment RequestPayloadFields on CooperationRequestPayload {
              request {
                ...RequestContent
              }
              errors {
                ...UserErrorFields
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query,
            operation_name="AcknowledgeRequest",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return AcknowledgeRequest.model_validate(data)

    async def accept_request(
        self, input: RequestStepInput, **kwargs: Any
    ) -> AcceptRequest:
        query = gql("""
            mutation AcceptRequest($input: RequestStepInput!) {
              acceptCooperationRequest(input: $input) {
                ...RequestPayloadFields
              }
            }

            fragment RequestContent on CooperationRequest {
              id
              kind
              priority
              legalBasis
              title
              status
              outcome
              version
              requester {
                id
                code
              }
              requested {
                id
                code
                kind
              }
              body
              particulars {
                offence
                dataToPreserve
                custodianOrLocation
                followUpMla
                imminentThreat
                accountIdentifiers {
                  kind
                  value
                  platform
                  chain
                }
                contentLocations
              }
              evidence {
                role
                evidenceId
                sha256
              }
            }

            fragment RequestPayloadFields on CooperationRequestPayload {
              request {
                ...RequestContent
              }
              errors {
                ...UserErrorFields
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="AcceptRequest", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return AcceptRequest.model_validate(data)

    async def decline_request(
        self, input: RequestReasonInput, **kwargs: Any
    ) -> DeclineRequest:
        query = gql("""
            mutation DeclineRequest($input: RequestReasonInput!) {
              declineCooperationRequest(input: $input) {
                ...RequestPayloadFields
              }
            }

            fragment RequestContent on CooperationRequest {
              id
              kind
              priority
              legalBasis
              title
              status
              outcome
              version
              requester {
                id
                code
              }
              requested {
                id
                code
                kind
              }
              body
              particulars {
                offence
                dataToPreserve
                custodianOrLocation
                followUpMla
                imminentThreat
                accountIdentifiers {
                  kind
                  value
                  platform
                  chain
                }
                contentLocations
              }
              evidence {
                role
                evidenceId
                sha256
              }
            }

            fragment RequestPayloadFields on CooperationRequestPayload {
              request {
                ...RequestContent
              }
              errors {
                ...UserErrorFields
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="DeclineRequest", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return DeclineRequest.model_validate(data)

    async def fulfil_request(
        self, input: FulfilCooperationRequestInput, **kwargs: Any
    ) -> FulfilRequest:
        query = gql("""
            mutation FulfilRequest($input: FulfilCooperationRequestInput!) {
              fulfilCooperationRequest(input: $input) {
                ...RequestPayloadFields
              }
            }

            fragment RequestContent on CooperationRequest {
              id
              kind
              priority
              legalBasis
              title
              status
              outcome
              version
              requester {
                id
                code
              }
              requested {
                id
                code
                kind
              }
              body
              particulars {
                offence
                dataToPreserve
                custodianOrLocation
                followUpMla
                imminentThreat
                accountIdentifiers {
                  kind
                  value
                  platform
                  chain
                }
                contentLocations
              }
              evidence {
                role
                evidenceId
                sha256
              }
            }

            fragment RequestPayloadFields on CooperationRequestPayload {
              request {
                ...RequestContent
              }
              errors {
                ...UserErrorFields
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="FulfilRequest", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return FulfilRequest.model_validate(data)

    async def approve_request(
        self, input: ApproveCooperationRequestInput, **kwargs: Any
    ) -> ApproveRequest:
        query = gql("""
            mutation ApproveRequest($input: ApproveCooperationRequestInput!) {
              approveCooperationRequest(input: $input) {
                ...RequestPayloadFields
              }
            }

            fragment RequestContent on CooperationRequest {
              id
              kind
              priority
              legalBasis
              title
              status
              outcome
              version
              requester {
                id
                code
              }
              requested {
                id
                code
                kind
              }
              body
              particulars {
                offence
                dataToPreserve
                custodianOrLocation
                followUpMla
                imminentThreat
                accountIdentifiers {
                  kind
                  value
                  platform
                  chain
                }
                contentLocations
              }
              evidence {
                role
                evidenceId
                sha256
              }
            }

            fragment RequestPayloadFields on CooperationRequestPayload {
              request {
                ...RequestContent
              }
              errors {
                ...UserErrorFields
              }
            }

            fragment UserErrorFields on UserError {
              code
              field
              message
              retryAfter
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="ApproveRequest", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ApproveRequest.model_validate(data)

    async def inbox(
        self, since: Union[Optional[int], UnsetType] = UNSET, **kwargs: Any
    ) -> AsyncIterator[Inbox]:
        query = gql("""
            subscription Inbox($since: Int) {
              cooperationRequestEvents(since: $since) {
                ...RequestEventFields
              }
            }

            fragment RequestEventFields on RequestEvent {
              id
              seq
              number
              action
              fromStatus
              toStatus
              occurredAt
              requestId
              actorAgency {
                id
                code
              }
            }
            """)
        variables: dict[str, object] = {"since": since}
        async for data in self.execute_ws(
            query=query, operation_name="Inbox", variables=variables, **kwargs
        ):
            yield Inbox.model_validate(data)
