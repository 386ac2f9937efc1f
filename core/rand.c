/* rand: xoshiro256** (Blackman and Vigna), seeded by SplitMix64. */
#include "rand.h"

uint64_t rand_splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rand_seed(rand_t *r, uint64_t seed, uint64_t purpose)
{
    uint64_t st = seed ^ (purpose * 0xd1342543de82ef95ull + 0x2545f4914f6cdd1dull);
    for (int i = 0; i < 4; i++)
        r->s[i] = rand_splitmix(&st);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rand_u64(rand_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t rand_below(rand_t *r, uint64_t n)
{
    /* Lemire's nearly divisionless method, with 128-bit products. */
    unsigned __int128 m = (unsigned __int128)rand_u64(r) * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = (0 - n) % n;
        while (l < t) {
            m = (unsigned __int128)rand_u64(r) * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

int64_t rand_range(rand_t *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    if (span == UINT64_MAX)
        return (int64_t)rand_u64(r);
    return (int64_t)((uint64_t)lo + rand_below(r, span + 1));
}

double rand_double(rand_t *r)
{
    return (double)(rand_u64(r) >> 11) * 0x1.0p-53;
}
