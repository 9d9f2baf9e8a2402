// Never miss a chat: a sound, a browser notification and a count in the tab title when a chat is
// queued for me, transferred to me, or a visitor writes in a chat I am not looking at. Each can be
// turned off (kept in localStorage). The pure parts (settings, title, which entries are new) come
// first and touch no DOM, so `npm test` runs them under node:test.

export const ALERT_SETTINGS_KEY = 'nimbus-console-alerts:v1';
export const DEFAULT_SETTINGS = { sound: true, desktop: true, title: true };

export function loadSettings(storage) {
  try {
    const data = JSON.parse((storage && storage.getItem(ALERT_SETTINGS_KEY)) || '{}');
    const settings = { ...DEFAULT_SETTINGS };
    for (const key of Object.keys(DEFAULT_SETTINGS)) if (typeof data[key] === 'boolean') settings[key] = data[key];
    return settings;
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export function saveSettings(storage, settings) {
  try {
    storage.setItem(ALERT_SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    /* storage full or blocked: the settings hold for this page */
  }
}

/** "(3) Nimbus agent console" while something waits for me (and the count is on), else the base. */
export function titleWithCount(base, count, enabled) {
  return enabled && count > 0 ? `(${count}) ${base}` : base;
}

/** The queue entries whose conversation id is not in `known` (a Set). */
export function newEntries(known, entries) {
  return (entries || []).filter((e) => e && !known.has(e.conversation_id));
}

// --- in the browser ---------------------------------------------------------

export class Alerts {
  constructor({ storage, baseTitle }) {
    this.storage = storage;
    this.baseTitle = baseTitle;
    this.settings = loadSettings(storage);
    this.waiting = new Set(); // queued conversations that arrived while I was not looking
    this.unread = 0; // visitor messages in my conversations not yet seen
    this.audio = null;
    this.log = null; // an element announcing the latest alert (role=status), set by the view
    const seen = () => {
      if (!document.hidden && document.hasFocus()) this.seenQueue();
    };
    document.addEventListener('visibilitychange', seen);
    window.addEventListener('focus', seen);
  }

  set(key, value) {
    this.settings = { ...this.settings, [key]: value };
    saveSettings(this.storage, this.settings);
    if (key === 'desktop' && value && typeof Notification !== 'undefined' && Notification.permission === 'default') {
      Notification.requestPermission().catch(() => {});
    }
    this.renderTitle();
  }

  looking() {
    return !document.hidden && document.hasFocus();
  }

  /** Something for me: `kind` is 'queued', 'transferred' or 'message'; `key` groups notifications. */
  alert(kind, text, key) {
    if (this.log) this.log.textContent = text;
    if (this.settings.sound) this.beep();
    if (this.settings.desktop && !this.looking()) this.desktop(text, key || kind);
  }

  queued(entries) {
    for (const entry of entries) if (!this.looking()) this.waiting.add(entry.conversation_id);
    this.renderTitle();
  }

  seenQueue() {
    this.waiting.clear();
    this.renderTitle();
  }

  setUnread(count) {
    this.unread = count;
    this.renderTitle();
  }

  renderTitle() {
    document.title = titleWithCount(this.baseTitle, this.unread + this.waiting.size, this.settings.title);
  }

  desktop(text, tag) {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    try {
      const notification = new Notification('Nimbus agent console', { body: text, tag });
      notification.onclick = () => {
        window.focus();
        notification.close();
      };
    } catch {
      /* some browsers allow notifications only from a service worker */
    }
  }

  beep() {
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      this.audio = this.audio || new Context();
      const osc = this.audio.createOscillator();
      const gain = this.audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, this.audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, this.audio.currentTime + 0.3);
      osc.connect(gain).connect(this.audio.destination);
      osc.start();
      osc.stop(this.audio.currentTime + 0.3);
    } catch {
      /* no audio device: the title and the notification still tell */
    }
  }
}
