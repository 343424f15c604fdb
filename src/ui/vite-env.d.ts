// Vite's client types: CSS imports, import.meta.glob, import.meta.env.
/// <reference types="vite/client" />
