// What an agency tool in TypeScript writes against the types GraphQL Code Generator made from
// schema.graphql (schema.ts) and tests/clients/operations.py (types.ts): tsc must accept it.
import type {
  CasesPageQuery,
  CasesPageQueryVariables,
  InboxSubscription,
  OpenCaseMutation,
  OpenCaseMutationVariables,
} from "./types";
import type { Case, CaseCategory } from "./schema";

export const firstPage: CasesPageQueryVariables = { first: 20, after: null };

export const opening: OpenCaseMutationVariables = {
  input: {
    reference: "MY-2026-0042",
    title: "Operation Tide",
    summary: "Investment scam run through a messenger channel",
    category: "INVESTMENT_SCAM",
    tlp: "AMBER",
  },
};

export function references(page: CasesPageQuery): string[] {
  return page.cases.edges.map((edge) => edge.node.reference);
}

export function nextCursor(page: CasesPageQuery): string | null {
  return page.cases.pageInfo.hasNextPage ? page.cases.pageInfo.endCursor : null;
}

export function openedId(result: OpenCaseMutation): string | null {
  const refused = result.openCase.errors.map((error) => `${error.code}: ${error.message}`);
  if (refused.length > 0) throw new Error(refused.join("; "));
  return result.openCase.case?.id ?? null;
}

export function submittedBy(message: InboxSubscription): string | null {
  const event = message.cooperationRequestEvents;
  return event.action === "SUBMIT" ? (event.actorAgency?.code ?? null) : null;
}

export const categories: CaseCategory[] = ["FRAUD", "CYBERCRIME"];

export function label(item: Pick<Case, "reference" | "title" | "tlp">): string {
  return `${item.reference} ${item.title} (TLP:${item.tlp})`;
}
