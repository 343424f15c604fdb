// The built-in guest programs, as the picker shows them. The list itself and
// the assembly sources belong to src/guests; the UI only needs these fields
// (the VMM worker assembles a guest by name).
import { GUESTS as ALL_GUESTS } from '../guests/index.ts';

export interface GuestInfo {
  name: string;
  title: string;
  description: string;
  vcpus: number;
}

export const GUESTS: readonly GuestInfo[] = ALL_GUESTS.map(({ name, title, description, vcpus }) => ({
  name, title, description, vcpus,
}));
