// Mistakes the generated types must catch: tsc must reject each line marked `wrong`.
import type { CasesPageQuery, InboxSubscription, OpenCaseMutationVariables } from "./types";
import type { Tlp } from "./schema";

export function reference(page: CasesPageQuery): number {
  return page.cases.edges[0].node.reference; // wrong: a string
}

export const opening: OpenCaseMutationVariables = {
  input: {
    reference: "MY-2026-0043",
    title: "Operation Ebb",
    summary: "Pig-butchering ring",
    category: "PARKING", // wrong: no such CaseCategory
  },
};

export function actor(message: InboxSubscription): string {
  return message.cooperationRequestEvents.actorAgency.code; // wrong: actorAgency may be null
}

export const marking: Tlp = "SECRET"; // wrong: no such Tlp
