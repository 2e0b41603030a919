using System.ComponentModel.DataAnnotations;

namespace Cadre.Idempotency;

/// <summary><c>Idempotency-Key</c> handling. Bound from <c>Cadre:Idempotency</c>.</summary>
public sealed class IdempotencyOptions
{
    public const string SectionName = "Cadre:Idempotency";

    /// <summary>How long a key and its stored response are kept for replay. Default 24 hours, as Stripe.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00", ErrorMessage = "Cadre:Idempotency:Retention must be between 00:01:00 and 30.00:00:00.")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long an unfinished first request holds its key. A retry inside this window gets 409; after
    /// it (the first request's process died) the retry runs. Default 1 minute.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Cadre:Idempotency:LockTimeout must be between 00:00:01 and 01:00:00.")]
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromMinutes(1);
}
