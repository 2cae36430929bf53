"""A case's life through the HTTP API as its owner sees it."""

from __future__ import annotations

OPEN = """
mutation($input: OpenCaseInput!) {
  openCase(input: $input) {
    case { id reference title summary viewerAccess version }
    errors { code field message }
  }
}
"""


async def test_owner_opens_and_reads_case(world, gql):
    owner = await world.agency()
    body = await gql(
        owner.token,
        OPEN,
        {
            "input": {
                "reference": "R-1",
                "title": "Op Test",
                "summary": "secret summary",
                "category": "FRAUD",
            }
        },
    )
    payload = body["data"]["openCase"]
    assert payload["errors"] == []
    assert payload["case"]["summary"] == "secret summary"
    assert payload["case"]["viewerAccess"] == "OWNER"
    read = await gql(
        owner.token,
        "query($id: ID!) { node(id: $id) { ... on Case { title summary } } }",
        {"id": payload["case"]["id"]},
    )
    assert read["data"]["node"] == {"title": "Op Test", "summary": "secret summary"}
