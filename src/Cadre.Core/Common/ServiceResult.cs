namespace Cadre.Common;

/// <summary>The ways a service call can fail that the caller must hear about, each one HTTP status.</summary>
public enum ServiceErrorKind
{
    /// <summary>A field is invalid (422).</summary>
    Validation,

    /// <summary>The resource does not exist, or the caller may not know that it does (404).</summary>
    NotFound,

    /// <summary>The request clashes with the current state, such as a taken name (409).</summary>
    Conflict,

    /// <summary>The caller's expected version is stale (412).</summary>
    PreconditionFailed,

    /// <summary>The caller is known but lacks the right for this action (403).</summary>
    Forbidden,
}

/// <summary>
/// A failure a service reports instead of throwing: a kind, a human sentence, for validation the
/// fields, and any facts a client needs to recover (such as the current version), sent as extra
/// members of the problem.
/// </summary>
public sealed record ServiceError(
    ServiceErrorKind Kind,
    string Detail,
    IReadOnlyDictionary<string, string[]>? Errors = null,
    IReadOnlyDictionary<string, object?>? Extensions = null)
{
    public static ServiceError Validation(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return new(ServiceErrorKind.Validation, "One or more fields are invalid.", errors.ToDictionary());
    }

    public static ServiceError Validation(string field, string message) => Validation(new ValidationErrors().Add(field, message));

    public static ServiceError NotFound(string detail) => new(ServiceErrorKind.NotFound, detail);

    public static ServiceError Conflict(string detail, IReadOnlyDictionary<string, object?>? extensions = null) =>
        new(ServiceErrorKind.Conflict, detail, null, extensions);

    public static ServiceError PreconditionFailed(string detail) => new(ServiceErrorKind.PreconditionFailed, detail);

    public static ServiceError Forbidden(string detail) => new(ServiceErrorKind.Forbidden, detail);
}

/// <summary>Either a value or a <see cref="ServiceError"/>.</summary>
public readonly record struct ServiceResult<T>
{
    private ServiceResult(T? value, ServiceError? error)
    {
        Value = value;
        Error = error;
    }

    public T? Value { get; }

    public ServiceError? Error { get; }

    public bool IsSuccess => Error is null;

    public static implicit operator ServiceResult<T>(T value) => new(value, null);

    public static implicit operator ServiceResult<T>(ServiceError error) => new(default, error);

    public TOut Match<TOut>(Func<T, TOut> success, Func<ServiceError, TOut> failure)
    {
        ArgumentNullException.ThrowIfNull(success);
        ArgumentNullException.ThrowIfNull(failure);
        return Error is null ? success(Value!) : failure(Error);
    }
}
