using System.Data.Common;
using Cadre.Audit;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cadre.Server.Hosting;

/// <summary>
/// What an operator does on the server's machine without the API (<c>cadre db</c>, <c>cadre admin</c>):
/// look at and migrate the database, and manage instance admin keys in it. Built from the server's own
/// services and settings (<see cref="CadreHost.Build"/>: appsettings.json, <c>CADRE_*</c> variables, the
/// arguments), so it acts on exactly the database the server would, and starts nothing (no HTTP, no
/// workers). Everything works beside a running server: SQLite in WAL mode lets one read while the other
/// writes, and each write here is one short transaction.
/// </summary>
public sealed class CadreOperator : IAsyncDisposable
{
    // Operator commands print their own results on standard output: the server's information lines would
    // be noise there, and what is left (warnings, errors) goes to standard error.
    private static readonly string[] QuietLogging =
        ["--Logging:LogLevel:Default=Warning", "--Logging:Console:LogToStandardErrorThreshold=Trace"];

    private readonly WebApplication _app;

    private CadreOperator(WebApplication app) => _app = app;

    /// <summary>The server's services from <paramref name="args"/> (server arguments, such as <c>--Cadre:Database=…</c>) and the usual settings.</summary>
    /// <exception cref="CadreOperatorException">The settings cannot be used.</exception>
    public static CadreOperator Create(IEnumerable<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        try
        {
            return new CadreOperator(CadreHost.Build([.. QuietLogging, .. args]));
        }
        catch (OptionsValidationException ex)
        {
            throw new CadreOperatorException(string.Join(" ", ex.Failures), OperatorFailure.Settings);
        }
    }

    /// <summary>Which database the settings name, for people (<c>SQLite /var/lib/cadre/cadre.db</c>; never a password).</summary>
    public string Database => Run(() => Storage.Target.Description);

    private StorageProvider Storage => _app.Services.GetRequiredService<StorageProvider>();

    /// <summary>The database's schema against this build's, read without changing anything (a missing database is not created).</summary>
    public Task<DatabaseStatus> GetStatusAsync(CancellationToken cancellationToken) => RunAsync(async () =>
    {
        var inspection = await _app.Services.GetRequiredService<SchemaMigrator>().InspectAsync(cancellationToken);
        var status = inspection.Status;
        var state = !inspection.Exists ? DatabaseStates.NotCreated
            : inspection.Problem is not null ? DatabaseStates.Unusable
            : status.CurrentVersion == 0 ? DatabaseStates.Empty
            : status.CurrentVersion < status.LatestVersion ? DatabaseStates.Behind
            : status.CurrentVersion == status.LatestVersion ? DatabaseStates.UpToDate
            : DatabaseStates.Ahead;
        return new DatabaseStatus(Storage.Target.Description, inspection.Exists, status.CurrentVersion, status.LatestVersion, state,
            inspection.Problem is null, [.. inspection.Pending.Select(Info)], inspection.Problem);
    });

    /// <summary>
    /// Creates the database if needed and applies the migrations it lacks, exactly as the server does when it
    /// starts (under the same lock, so beside starting nodes each is applied once). Nothing to apply is success.
    /// </summary>
    /// <param name="applied">Told of each migration once it is committed.</param>
    /// <exception cref="CadreOperatorException">The database is newer than this build, or an applied script was edited; nothing was changed.</exception>
    public Task<MigrationResult> MigrateAsync(Action<SchemaMigrationInfo>? applied, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        var done = new List<SchemaMigrationInfo>();
        var status = await _app.Services.GetRequiredService<SchemaMigrator>().MigrateAsync(script =>
        {
            done.Add(Info(script));
            applied?.Invoke(Info(script));
        }, cancellationToken);
        var from = done.Count > 0 ? done[0].Version - 1 : status.CurrentVersion;
        return new MigrationResult(Storage.Target.Description, from, status.CurrentVersion, status.LatestVersion, done);
    });

    /// <summary>
    /// Adds an instance admin key (owner of every workspace), for an operator who lost theirs, and records
    /// <c>api_key.created</c> in the audit log with the operator's account as the actor.
    /// </summary>
    /// <returns>The key with its secret, which only this answer ever holds: Cadre stores its hash.</returns>
    public Task<NewInstanceKey> CreateInstanceKeyAsync(string name, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        var errors = new ValidationErrors();
        Text.ValidateLabel(name, "name", 100, errors);
        if (!errors.IsEmpty)
        {
            throw new CadreOperatorException(
                "The key's name " + string.Join(" ", errors.ToDictionary().SelectMany(e => e.Value)).ToLowerInvariant(), OperatorFailure.Invalid);
        }

        await EnsureCurrentAsync(cancellationToken);
        var (key, secret) = await _app.Services.GetRequiredService<InstanceAdminKeys>().CreateAsync(name, cancellationToken);
        await AuditAsync("api_key.created", key, "cadre admin create-key", StatusCodes.Status201Created, cancellationToken);
        return new NewInstanceKey(Info(key), secret);
    });

    /// <summary>Every instance admin key, revoked ones too, oldest first; never a secret.</summary>
    public Task<IReadOnlyList<InstanceKeyInfo>> ListInstanceKeysAsync(CancellationToken cancellationToken) => RunAsync(async () =>
    {
        await EnsureCurrentAsync(cancellationToken);
        var keys = await _app.Services.GetRequiredService<InstanceAdminKeys>().ListAsync(cancellationToken);
        return (IReadOnlyList<InstanceKeyInfo>)[.. keys.Select(Info)];
    });

    /// <summary>
    /// Revokes an instance admin key at once (the next request with it is refused) and records
    /// <c>api_key.revoked</c>; a key already revoked is left as it was.
    /// </summary>
    /// <exception cref="CadreOperatorException">No instance admin key has that ID.</exception>
    public Task<InstanceKeyInfo> RevokeInstanceKeyAsync(string id, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        ArgumentNullException.ThrowIfNull(id);
        await EnsureCurrentAsync(cancellationToken);
        var (key, revoked) = await _app.Services.GetRequiredService<InstanceAdminKeys>().RevokeAsync(id.Trim(), cancellationToken)
            ?? throw new CadreOperatorException($"No instance admin key has the ID '{id}'; `cadre admin list-keys` lists them.", OperatorFailure.NotFound);
        if (revoked)
        {
            await AuditAsync("api_key.revoked", key, "cadre admin revoke-key", StatusCodes.Status200OK, cancellationToken);
        }

        return Info(key);
    });

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    /// <summary>
    /// Keys are only touched in a database this build runs on as it is: never one that is missing (a wrong
    /// path would get a new, empty database), behind (migrating is the operator's decision) or unusable.
    /// </summary>
    private async Task EnsureCurrentAsync(CancellationToken cancellationToken)
    {
        var inspection = await _app.Services.GetRequiredService<SchemaMigrator>().InspectAsync(cancellationToken);
        var database = Storage.Target.Description;
        if (!inspection.Exists)
        {
            throw new CadreOperatorException(
                $"There is no database at {database} yet. Check CADRE_DATABASE and CADRE_DATA_DIR (or --database, --data-dir), " +
                "or create it: `cadre db migrate`, or start the server once.", OperatorFailure.Unusable);
        }

        if (inspection.Problem is { } problem)
        {
            throw new CadreOperatorException(problem, OperatorFailure.Unusable);
        }

        if (inspection.Pending.Count > 0)
        {
            throw new CadreOperatorException(
                $"The database ({database}) is at schema version {inspection.Status.CurrentVersion} and this build's is {inspection.Status.LatestVersion}: " +
                "apply the migrations first (`cadre db migrate`, or start the server, which applies them).", OperatorFailure.Unusable);
        }
    }

    private async Task AuditAsync(string action, ApiKey key, string command, int status, CancellationToken cancellationToken)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var record = new AuditRecord(null, AuditActor.Operator(OperatorAccount()), action, "api_key", key.Id, key.Name,
            "CLI", command, status, null, $"cadre/{typeof(CadreOperator).Assembly.GetName().Version?.ToString(3)}", null, null);
        await scope.ServiceProvider.GetRequiredService<AuditLog>().WriteAsync(record, cancellationToken);
    }

    /// <summary>Who is at the console: their account on this machine, and the one sudo was called by.</summary>
    private static string OperatorAccount()
    {
        var account = $"{Environment.UserName}@{Environment.MachineName}";
        return Environment.GetEnvironmentVariable("SUDO_USER") is { Length: > 0 } caller && caller != Environment.UserName
            ? $"{account} (sudo by {caller})"
            : account;
    }

    private static SchemaMigrationInfo Info(MigrationScript script) => new(script.Version, script.Name);

    private static InstanceKeyInfo Info(ApiKey key) =>
        new(key.Id, key.Name, key.KeyPrefix, key.CreatedAt, key.LastUsedAt, key.RevokedAt, key.RevokedAt is null ? "active" : "revoked");

    private static T Run<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (OptionsValidationException ex)
        {
            throw new CadreOperatorException(string.Join(" ", ex.Failures), OperatorFailure.Settings);
        }
    }

    /// <summary>Turns what can go wrong with the database into a reason for the operator, never a stack trace.</summary>
    private async Task<T> RunAsync<T>(Func<Task<T>> action)
    {
        var database = Database;
        try
        {
            return await action();
        }
        catch (SchemaMigrationException ex)
        {
            throw new CadreOperatorException(ex.Message, OperatorFailure.Unusable);
        }
        catch (Exception ex) when (ex is DbException or DbUpdateException or IOException or UnauthorizedAccessException || Storage.IsTransientFailure(ex))
        {
            throw new CadreOperatorException($"Cannot use the database ({database}): {Reason(ex)}", OperatorFailure.Unreachable);
        }
    }

    /// <summary>The driver's own words, not EF Core's wrapping ("likely due to a transient failure"), with their cause (connection refused).</summary>
    private static string Reason(Exception exception)
    {
        while (exception is InvalidOperationException or DbUpdateException && exception.InnerException is { } inner)
        {
            exception = inner;
        }

        return exception.InnerException is { } cause && !exception.Message.Contains(cause.Message, StringComparison.Ordinal)
            ? $"{exception.Message} ({cause.Message})"
            : exception.Message;
    }
}

/// <summary>Why an operator command could not do what it was asked; the <c>cadre</c> command turns each into an exit code.</summary>
public enum OperatorFailure
{
    /// <summary>A setting is wrong: the database named cannot be used as written.</summary>
    Settings,

    /// <summary>The database is there but this build cannot use it now: newer, edited, missing or not migrated.</summary>
    Unusable,

    /// <summary>The database could not be reached or opened.</summary>
    Unreachable,

    /// <summary>What was named does not exist.</summary>
    NotFound,

    /// <summary>What was asked is not valid (a blank name).</summary>
    Invalid,
}

/// <summary>An operator command failed for a reason its message gives, for a person to act on.</summary>
public sealed class CadreOperatorException(string message, OperatorFailure failure) : Exception(message)
{
    public OperatorFailure Failure { get; } = failure;
}

/// <summary>The values of <see cref="DatabaseStatus.State"/>.</summary>
public static class DatabaseStates
{
    /// <summary>There is no database yet (no SQLite file, no PostgreSQL database of that name): migrating, or the server's start, creates it.</summary>
    public const string NotCreated = "not-created";

    /// <summary>The database exists with no migration applied.</summary>
    public const string Empty = "empty";

    /// <summary>Some of this build's migrations are not applied yet.</summary>
    public const string Behind = "behind";

    /// <summary>At this build's version.</summary>
    public const string UpToDate = "up-to-date";

    /// <summary>Newer than this build by migrations that all declare it compatible: it runs on it (a rolling upgrade under way).</summary>
    public const string Ahead = "ahead-compatible";

    /// <summary>This build cannot use it: newer by a migration that excludes it, or an applied script differs from this build's.</summary>
    public const string Unusable = "unusable";
}

/// <summary>One versioned migration script.</summary>
public sealed record SchemaMigrationInfo(int Version, string Name);

/// <summary>A database's schema against this build's.</summary>
/// <param name="Database">Which database, for people (never a password).</param>
/// <param name="State">One of <see cref="DatabaseStates"/>.</param>
/// <param name="CanRun">Whether this build can run on it, once it has applied <paramref name="Pending"/> (as the server does at start).</param>
/// <param name="Problem">Why it cannot, when it cannot.</param>
public sealed record DatabaseStatus(
    string Database,
    bool Exists,
    int CurrentVersion,
    int LatestVersion,
    string State,
    bool CanRun,
    IReadOnlyList<SchemaMigrationInfo> Pending,
    string? Problem);

/// <summary>What a migration did: the version before and after, and each script applied (none when it was up to date).</summary>
public sealed record MigrationResult(string Database, int FromVersion, int Version, int LatestVersion, IReadOnlyList<SchemaMigrationInfo> Applied);

/// <summary>An instance admin key as an operator sees it: never its secret, only its visible prefix.</summary>
/// <param name="Status"><c>active</c> or <c>revoked</c>.</param>
public sealed record InstanceKeyInfo(string Id, string Name, string Prefix, DateTime CreatedAt, DateTime? LastUsedAt, DateTime? RevokedAt, string Status);

/// <summary>A new instance admin key and its secret, shown once.</summary>
public sealed record NewInstanceKey(InstanceKeyInfo Key, string Secret);
