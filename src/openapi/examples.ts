/**
 * The example values the OpenAPI document shows, in a module of their own so
 * the tests can check that the API answers what the docs show (the docs'
 * number logs in as exactly `exampleUser()`; `exampleRegistration()` completes
 * a registration).
 */

/** A new user who logged in with the docs' number and attribution (its private view, docs/api.md#the-user). */
export function exampleUser(): Record<string, unknown> {
  return {
    id: '65a4f0c2e4b0a1b2c3d4e5f6',
    name: null,
    surname: null,
    username: null,
    countryCode: '90',
    phoneNumber: '5551234567',
    signupSource: 'instagram_ads',
    signupCampaign: 'spring_launch_2026',
    profilePhoto: null,
    availabilityStatus: null,
    birthDate: null,
    gender: null,
    interests: [],
    expertise: [],
    email: null,
    bio: null,
    instagram: null,
    x: null,
    tiktok: null,
    snapchat: null,
    facebook: null,
    privacyPolicyAccepted: false,
    privacyPolicyVersion: null,
    termsOfUseAccepted: false,
    termsOfUseVersion: null,
    consentFormAccepted: false,
    consentFormVersion: null,
    isRegistrationComplete: false,
    roles: ['user'],
    followersCount: 0,
    followingCount: 0,
    minutePriceInLiveStream: 0,
    creditBalance: 0,
    lastLogin: null,
    timezone: null,
    lastUsernameChangeDate: null,
    accountDeletionStatus: null,
    accountDeletionRequestedAt: null,
    accountDeletionScheduledFor: null,
    accountDeletionCancelledAt: null,
    accountDeletionFinalizedAt: null,
  };
}

/** A valid complete-registration body. */
export function exampleRegistration() {
  return {
    name: 'Ayşe',
    surname: 'Yılmaz',
    username: 'ayse.music',
    birthDate: '1995-04-12',
    gender: 'female',
    privacyPolicyAccepted: true,
    privacyPolicyVersion: '1.2.0',
    termsOfUseAccepted: true,
    termsOfUseVersion: '1.1.0',
  };
}
