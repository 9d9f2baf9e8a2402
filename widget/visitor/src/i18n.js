// The widget's own words in English, Bengali and Malayalam. Pure: no DOM.

export const LANGUAGES = ['en', 'bn', 'ml'];
export const LANGUAGE_NAMES = { en: 'English', bn: 'বাংলা', ml: 'മലയാളം' };

const STRINGS = {
  en: {
    title: 'Chat with us',
    close: 'Close chat',
    language: 'Language',
    messages: 'Conversation',
    placeholder: 'Type your message…',
    inputLabel: 'Your message',
    send: 'Send',
    you: 'You',
    bot: 'Assistant',
    agent: 'Agent',
    system: 'Notice',
    typing: 'Typing…',
    agentTyping: '{name} is typing…',
    stateBot: 'You are chatting with our assistant.',
    stateQueued: 'Waiting for a person.',
    position: 'You are number {position} in the queue.',
    eta: 'Estimated wait: {eta}.',
    stateAssigned: 'You are chatting with {name}.',
    stateClosed: 'The conversation has ended.',
    connecting: 'Connecting…',
    offlineNet: 'You are offline. Messages will be sent when the connection is back.',
    reconnected: 'Connected again.',
    queuedOut: 'Waiting to send',
    sending: 'Sending…',
    failed: 'Not sent.',
    retry: 'Retry',
    translated: 'Translated automatically.',
    showOriginal: 'Show original',
    hideOriginal: 'Hide original',
    original: 'Original ({lang}):',
    talkToPerson: 'Talk to a person',
    endChat: 'End chat',
    endConfirm: 'End this chat?',
    endYes: 'Yes, end it',
    endNo: 'Keep chatting',
    newMessages: 'New message ↓',
    emailTranscript: 'Email me the transcript',
    emailSend: 'Send transcript',
    emailSent: 'The transcript is on its way to {email}.',
    emailUnavailable: 'Email is not available here.',
    offlineTitle: 'No one is available right now. Leave a message and we will get back to you.',
    offlineText: 'Your message',
    contact: 'Email or phone',
    offlineSend: 'Send message',
    offlineDone: 'Thank you. We will contact you soon.',
    rateTitle: 'How was your chat?',
    rateScore: 'Rating',
    star: '{n} of 5',
    comment: 'Comment (optional)',
    solved: 'Was your problem solved?',
    yes: 'Yes',
    no: 'No',
    rateSend: 'Send rating',
    rateDone: 'Thank you for your feedback!',
    rateNeedScore: 'Please choose a rating from 1 to 5.',
    newChat: 'Write a message to start a new chat.',
    prechatTitle: 'Before we start',
    prechatStart: 'Start chat',
    name: 'Name',
    email: 'Email',
    phone: 'Phone',
    required: 'Please fill in {field}.',
    newMessage: 'New message from {sender}: {text}',
    seconds: '{n} s',
    minutes: '{n} min',
    error: 'Something went wrong: {message}',
  },
  bn: {
    title: 'আমাদের সাথে চ্যাট করুন',
    close: 'চ্যাট বন্ধ করুন',
    language: 'ভাষা',
    messages: 'কথোপকথন',
    placeholder: 'বার্তা লিখুন…',
    inputLabel: 'আপনার বার্তা',
    send: 'পাঠান',
    you: 'আপনি',
    bot: 'সহকারী',
    agent: 'এজেন্ট',
    system: 'বিজ্ঞপ্তি',
    typing: 'লিখছে…',
    agentTyping: '{name} লিখছেন…',
    stateBot: 'আপনি আমাদের সহকারীর সাথে চ্যাট করছেন।',
    stateQueued: 'একজন মানুষের জন্য অপেক্ষা করছেন।',
    position: 'সারিতে আপনার অবস্থান {position}।',
    eta: 'আনুমানিক অপেক্ষা: {eta}।',
    stateAssigned: 'আপনি {name}-এর সাথে চ্যাট করছেন।',
    stateClosed: 'কথোপকথন শেষ হয়েছে।',
    connecting: 'সংযোগ হচ্ছে…',
    offlineNet: 'আপনি অফলাইনে আছেন। সংযোগ ফিরলে বার্তা পাঠানো হবে।',
    reconnected: 'আবার সংযুক্ত।',
    queuedOut: 'পাঠানোর অপেক্ষায়',
    sending: 'পাঠানো হচ্ছে…',
    failed: 'পাঠানো যায়নি।',
    retry: 'আবার চেষ্টা করুন',
    translated: 'স্বয়ংক্রিয়ভাবে অনূদিত।',
    showOriginal: 'মূল লেখা দেখুন',
    hideOriginal: 'মূল লেখা লুকান',
    original: 'মূল ({lang}):',
    talkToPerson: 'একজন মানুষের সাথে কথা বলুন',
    endChat: 'চ্যাট শেষ করুন',
    endConfirm: 'চ্যাটটি শেষ করবেন?',
    endYes: 'হ্যাঁ, শেষ করুন',
    endNo: 'চ্যাট চালিয়ে যান',
    newMessages: 'নতুন বার্তা ↓',
    emailTranscript: 'কথোপকথনটি আমাকে ইমেল করুন',
    emailSend: 'পাঠান',
    emailSent: 'কথোপকথনটি {email} ঠিকানায় পাঠানো হচ্ছে।',
    emailUnavailable: 'এখানে ইমেল পাঠানো যায় না।',
    offlineTitle: 'এই মুহূর্তে কেউ নেই। একটি বার্তা রেখে যান, আমরা আপনার সাথে যোগাযোগ করব।',
    offlineText: 'আপনার বার্তা',
    contact: 'ইমেল বা ফোন',
    offlineSend: 'বার্তা পাঠান',
    offlineDone: 'ধন্যবাদ। আমরা শীঘ্রই যোগাযোগ করব।',
    rateTitle: 'চ্যাটটি কেমন ছিল?',
    rateScore: 'রেটিং',
    star: '৫-এর মধ্যে {n}',
    comment: 'মন্তব্য (ঐচ্ছিক)',
    solved: 'আপনার সমস্যার সমাধান হয়েছে কি?',
    yes: 'হ্যাঁ',
    no: 'না',
    rateSend: 'রেটিং পাঠান',
    rateDone: 'আপনার মতামতের জন্য ধন্যবাদ!',
    rateNeedScore: '১ থেকে ৫-এর মধ্যে একটি রেটিং বেছে নিন।',
    newChat: 'নতুন চ্যাট শুরু করতে একটি বার্তা লিখুন।',
    prechatTitle: 'শুরু করার আগে',
    prechatStart: 'চ্যাট শুরু করুন',
    name: 'নাম',
    email: 'ইমেল',
    phone: 'ফোন',
    required: 'অনুগ্রহ করে {field} লিখুন।',
    newMessage: '{sender}-এর নতুন বার্তা: {text}',
    seconds: '{n} সেকেন্ড',
    minutes: '{n} মিনিট',
    error: 'একটি সমস্যা হয়েছে: {message}',
  },
  ml: {
    title: 'ഞങ്ങളോട് ചാറ്റ് ചെയ്യൂ',
    close: 'ചാറ്റ് അടയ്ക്കുക',
    language: 'ഭാഷ',
    messages: 'സംഭാഷണം',
    placeholder: 'സന്ദേശം എഴുതുക…',
    inputLabel: 'നിങ്ങളുടെ സന്ദേശം',
    send: 'അയയ്ക്കുക',
    you: 'നിങ്ങൾ',
    bot: 'സഹായി',
    agent: 'ഏജന്റ്',
    system: 'അറിയിപ്പ്',
    typing: 'ടൈപ്പ് ചെയ്യുന്നു…',
    agentTyping: '{name} ടൈപ്പ് ചെയ്യുന്നു…',
    stateBot: 'നിങ്ങൾ ഞങ്ങളുടെ സഹായിയുമായി ചാറ്റ് ചെയ്യുന്നു.',
    stateQueued: 'ഒരു വ്യക്തിക്കായി കാത്തിരിക്കുന്നു.',
    position: 'ക്യൂവിൽ നിങ്ങളുടെ സ്ഥാനം {position}.',
    eta: 'ഏകദേശ കാത്തിരിപ്പ്: {eta}.',
    stateAssigned: 'നിങ്ങൾ {name}-യുമായി ചാറ്റ് ചെയ്യുന്നു.',
    stateClosed: 'സംഭാഷണം അവസാനിച്ചു.',
    connecting: 'ബന്ധിപ്പിക്കുന്നു…',
    offlineNet: 'നിങ്ങൾ ഓഫ്‌ലൈനാണ്. കണക്ഷൻ തിരികെ വരുമ്പോൾ സന്ദേശങ്ങൾ അയയ്ക്കും.',
    reconnected: 'വീണ്ടും ബന്ധിപ്പിച്ചു.',
    queuedOut: 'അയയ്ക്കാൻ കാത്തിരിക്കുന്നു',
    sending: 'അയയ്ക്കുന്നു…',
    failed: 'അയച്ചില്ല.',
    retry: 'വീണ്ടും ശ്രമിക്കുക',
    translated: 'യന്ത്രവിവർത്തനം ചെയ്തത്.',
    showOriginal: 'മൂലരൂപം കാണുക',
    hideOriginal: 'മൂലരൂപം മറയ്ക്കുക',
    original: 'മൂലരൂപം ({lang}):',
    talkToPerson: 'ഒരു വ്യക്തിയോട് സംസാരിക്കുക',
    endChat: 'ചാറ്റ് അവസാനിപ്പിക്കുക',
    endConfirm: 'ഈ ചാറ്റ് അവസാനിപ്പിക്കണോ?',
    endYes: 'അതെ, അവസാനിപ്പിക്കുക',
    endNo: 'ചാറ്റ് തുടരുക',
    newMessages: 'പുതിയ സന്ദേശം ↓',
    emailTranscript: 'സംഭാഷണം എനിക്ക് ഇമെയിൽ ചെയ്യുക',
    emailSend: 'അയയ്ക്കുക',
    emailSent: 'സംഭാഷണം {email} എന്ന വിലാസത്തിലേക്ക് അയയ്ക്കുന്നു.',
    emailUnavailable: 'ഇവിടെ ഇമെയിൽ ലഭ്യമല്ല.',
    offlineTitle: 'ഇപ്പോൾ ആരും ലഭ്യമല്ല. ഒരു സന്ദേശം ഇടൂ, ഞങ്ങൾ ബന്ധപ്പെടാം.',
    offlineText: 'നിങ്ങളുടെ സന്ദേശം',
    contact: 'ഇമെയിൽ അല്ലെങ്കിൽ ഫോൺ',
    offlineSend: 'സന്ദേശം അയയ്ക്കുക',
    offlineDone: 'നന്ദി. ഞങ്ങൾ ഉടൻ ബന്ധപ്പെടും.',
    rateTitle: 'ചാറ്റ് എങ്ങനെയുണ്ടായിരുന്നു?',
    rateScore: 'റേറ്റിംഗ്',
    star: '5-ൽ {n}',
    comment: 'അഭിപ്രായം (ഐച്ഛികം)',
    solved: 'നിങ്ങളുടെ പ്രശ്നം പരിഹരിച്ചോ?',
    yes: 'അതെ',
    no: 'ഇല്ല',
    rateSend: 'റേറ്റിംഗ് അയയ്ക്കുക',
    rateDone: 'നിങ്ങളുടെ അഭിപ്രായത്തിന് നന്ദി!',
    rateNeedScore: '1 മുതൽ 5 വരെ ഒരു റേറ്റിംഗ് തിരഞ്ഞെടുക്കുക.',
    newChat: 'പുതിയ ചാറ്റ് തുടങ്ങാൻ ഒരു സന്ദേശം എഴുതൂ.',
    prechatTitle: 'തുടങ്ങുന്നതിന് മുമ്പ്',
    prechatStart: 'ചാറ്റ് തുടങ്ങുക',
    name: 'പേര്',
    email: 'ഇമെയിൽ',
    phone: 'ഫോൺ',
    required: 'ദയവായി {field} നൽകുക.',
    newMessage: '{sender}-ൽ നിന്ന് പുതിയ സന്ദേശം: {text}',
    seconds: '{n} സെക്കൻഡ്',
    minutes: '{n} മിനിറ്റ്',
    error: 'ഒരു പ്രശ്നം ഉണ്ടായി: {message}',
  },
};

export const KEYS = Object.keys(STRINGS.en);

/** The supported UI language of a BCP 47 tag ("bn-BD" -> "bn"), or null. */
export function supported(tag) {
  if (!tag || typeof tag !== 'string') return null;
  const base = tag.trim().toLowerCase().split(/[-_]/)[0];
  return LANGUAGES.includes(base) ? base : null;
}

/**
 * The UI language: the visitor's own choice, else the first supported browser
 * language (the first guess), else the site's default, else English.
 */
export function pickLanguage({ chosen, browser = [], siteDefault } = {}) {
  for (const candidate of [chosen, ...[].concat(browser || []), siteDefault]) {
    const lang = supported(candidate);
    if (lang) return lang;
  }
  return 'en';
}

const DIGITS = { bn: '০১২৩৪৫৬৭৮৯' }; // the bot writes Bengali numbers in Bengali digits

/** 12 -> "১২" in Bengali; unchanged in languages written with Latin digits. */
export function localDigits(lang, value) {
  const digits = DIGITS[lang];
  return digits ? String(value).replace(/[0-9]/g, (d) => digits[Number(d)]) : String(value);
}

/** t('bn', 'position', {position: 2}); falls back to English, then to the key. */
export function translate(lang, key, values = {}) {
  const table = STRINGS[lang] || STRINGS.en;
  const template = table[key] ?? STRINGS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function strings(lang) {
  return STRINGS[lang] || STRINGS.en;
}
