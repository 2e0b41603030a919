using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Common;

/// <summary>Who did something, as every record that says so shows it: an ID, a kind and a display name.</summary>
/// <param name="Kind"><c>user</c>, <c>service_account</c> or <c>instance_key</c>.</param>
/// <param name="Name">The user's display name, the service account's name or the key's name; <c>(deleted)</c> when it is gone.</param>
public sealed record Actor(string Id, string Kind, string Name);

/// <summary>Turns stored actor IDs into <see cref="Actor"/>s, in one query per kind.</summary>
internal sealed class ActorService(CadreDbContext db)
{
    public const string Deleted = "(deleted)";

    public async Task<IReadOnlyDictionary<string, Actor>> ResolveAsync(IEnumerable<string?> actorIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actorIds);
        var ids = actorIds.OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var users = ids.Where(id => id.StartsWith("usr_", StringComparison.Ordinal)).ToList();
        var accounts = ids.Where(id => id.StartsWith("sa_", StringComparison.Ordinal)).ToList();
        var keys = ids.Where(id => id.StartsWith("key_", StringComparison.Ordinal)).ToList();

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        if (users.Count > 0)
        {
            foreach (var user in await db.Users.AsNoTracking().Where(u => users.Contains(u.Id)).Select(u => new { u.Id, u.DisplayName }).ToListAsync(cancellationToken))
            {
                names[user.Id] = user.DisplayName;
            }
        }

        if (accounts.Count > 0)
        {
            foreach (var account in await db.ServiceAccounts.AsNoTracking().Where(s => accounts.Contains(s.Id)).Select(s => new { s.Id, s.Name }).ToListAsync(cancellationToken))
            {
                names[account.Id] = account.Name;
            }
        }

        if (keys.Count > 0)
        {
            foreach (var key in await db.ApiKeys.AsNoTracking().Where(k => keys.Contains(k.Id)).Select(k => new { k.Id, k.Name }).ToListAsync(cancellationToken))
            {
                names[key.Id] = key.Name;
            }
        }

        return ids.ToDictionary(id => id, id => new Actor(id, KindOf(id), names.GetValueOrDefault(id, Deleted)), StringComparer.Ordinal);
    }

    public async Task<Actor?> ResolveAsync(string? actorId, CancellationToken cancellationToken) =>
        actorId is null ? null : (await ResolveAsync([actorId], cancellationToken))[actorId];

    public static string KindOf(string actorId) =>
        actorId.StartsWith("usr_", StringComparison.Ordinal) ? "user"
        : actorId.StartsWith("sa_", StringComparison.Ordinal) ? "service_account"
        : "instance_key";
}

internal static class ActorLookup
{
    /// <summary>The actor for an ID from a resolved set, or null for a record that names none.</summary>
    public static Actor? Find(this IReadOnlyDictionary<string, Actor> actors, string? actorId) =>
        actorId is null ? null : actors[actorId];
}
