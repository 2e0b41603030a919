namespace Cadre.Common;

/// <summary>
/// Creates the opaque, prefixed, time-ordered identifiers every Cadre resource carries
/// (<c>ws_01h2xcejqtf2nbrexx3vqjhp41</c>): a type prefix, an underscore and a UUIDv7 written as 26
/// lowercase Crockford base32 characters, the TypeID format. IDs sort by creation time, as strings
/// and as UUIDs, so keyset pagination can order by them.
/// </summary>
/// <remarks>
/// Written by hand: <see cref="Guid.CreateVersion7()"/> is not monotonic within a millisecond and no
/// maintained TypeID library restores here. Within one millisecond the 74 random bits are
/// incremented (RFC 9562 §6.2, method 2), so IDs from one process never go backwards even when the
/// clock does.
/// </remarks>
public sealed class IdGenerator(TimeProvider time)
{
    private const string Alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    private static readonly UInt128 RandomMask = (UInt128.One << 74) - 1;

    private readonly Lock _gate = new();
    private long _lastMilliseconds;
    private UInt128 _lastRandom;

    /// <summary>A new identifier such as <c>ws_01h2xcejqtf2nbrexx3vqjhp41</c>.</summary>
    public string NewId(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return string.Create(prefix.Length + 27, (prefix, uuid: NextUuid()), static (span, state) =>
        {
            state.prefix.AsSpan().CopyTo(span);
            span[state.prefix.Length] = '_';
            Encode(state.uuid, span[(state.prefix.Length + 1)..]);
        });
    }

    internal UInt128 NextUuid()
    {
        var milliseconds = time.GetUtcNow().ToUnixTimeMilliseconds();
        UInt128 random;
        lock (_gate)
        {
            if (milliseconds <= _lastMilliseconds)
            {
                milliseconds = _lastMilliseconds;
                random = _lastRandom + 1;
                if (random > RandomMask)
                {
                    milliseconds++;
                    random = NewRandom();
                }
            }
            else
            {
                random = NewRandom();
            }

            _lastMilliseconds = milliseconds;
            _lastRandom = random;
        }

        // 48 bits unix_ts_ms | 4 bits version 7 | 12 bits rand_a | 2 bits variant 0b10 | 62 bits rand_b
        var randA = random >> 62;
        var randB = random & ((UInt128.One << 62) - 1);
        return ((UInt128)(ulong)milliseconds << 80) | ((UInt128)7 << 76) | (randA << 64) | ((UInt128)2 << 62) | randB;
    }

    /// <summary>Writes a 128-bit value as 26 Crockford base32 characters, most significant first.</summary>
    internal static void Encode(UInt128 value, Span<char> destination)
    {
        for (var i = 25; i >= 0; i--)
        {
            destination[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }
    }

    private static UInt128 NewRandom()
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
        // Leave the top bit clear so increments within a millisecond have room before overflowing.
        return new UInt128(BitConverter.ToUInt64(bytes), BitConverter.ToUInt64(bytes[8..])) & (RandomMask >> 1);
    }
}
