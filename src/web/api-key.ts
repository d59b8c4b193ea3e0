/** The caller's API key, kept in localStorage so the progress page and the playground share it. */
const STORAGE_KEY = 'veo-gateway.apiKey';

export function loadApiKey(): string {
  return localStorage.getItem(STORAGE_KEY) ?? '';
}

export function saveApiKey(key: string): void {
  if (key) localStorage.setItem(STORAGE_KEY, key);
  else localStorage.removeItem(STORAGE_KEY);
}
