#pragma once
// ASYNCIO_TEST_SANITIZED is 1 when this test is built with ASan, TSan or UBSan: heavy tests use a
// smaller N there (sanitized -O0 awaits cost about 1 us each), never a different assertion.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ASYNCIO_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define ASYNCIO_TEST_SANITIZED 1
#endif
#endif
#ifndef ASYNCIO_TEST_SANITIZED
#define ASYNCIO_TEST_SANITIZED 0
#endif
