// The built-in guest programs, as the picker shows them. The list itself and
// the assembly sources belong to src/guests; the UI only needs these fields
// (the VMM worker assembles a guest by name).
import { GUESTS as ALL_GUESTS } from '../guests/index.ts';
import { guestParamDefault } from '../guests/params.ts';

export interface GuestInfo {
  name: string;
  title: string;
  description: string;
  vcpus: number;
  /** Patchable words: name -> meaning and the default the source gives. */
  params: { name: string; help: string; value: number }[];
}

export const GUESTS: readonly GuestInfo[] = ALL_GUESTS.map((g) => ({
  name: g.name,
  title: g.title,
  description: g.description,
  vcpus: g.vcpus,
  params: Object.entries(g.params).map(([p, help]) => ({ name: p, help, value: guestParamDefault(g.source, p) ?? 0 })),
}));
