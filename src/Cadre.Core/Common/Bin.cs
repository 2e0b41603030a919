using Cadre.Auth;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Common;

/// <summary>A named, versioned definition that can go to the bin (personas, workflows).</summary>
internal interface IBinnable
{
    string Name { get; }

    int Version { get; }

    DateTime? DeletedAt { get; set; }

    string? DeletedBy { get; set; }
}

/// <summary>
/// The bin, shared by every binnable definition: deleting hides it from lists and name lookups and
/// frees its name; restoring brings it back if the name is still free.
/// </summary>
internal static class Bin
{
    /// <summary>Moves a tracked entity to the bin (a no-op when it is there already); an unmet If-Match is the error.</summary>
    public static async Task<ServiceError?> MoveAsync<T>(
        CadreDbContext db, T entity, string noun, Caller caller, VersionPrecondition? precondition, DateTime now, CancellationToken cancellationToken)
        where T : class, IBinnable
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(caller);
        if (precondition is not null && !precondition.IsMetBy(entity.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but {noun} '{entity.Name}' is at version {entity.Version}.");
        }

        if (entity.DeletedAt is null)
        {
            entity.DeletedAt = now;
            entity.DeletedBy = caller.ActorId;
            await db.SaveChangesAsync(cancellationToken);
        }

        return null;
    }

    /// <summary>Takes a tracked entity out of the bin (a no-op when it is not there); a taken name is the error.</summary>
    public static async Task<ServiceError?> RestoreAsync<T>(CadreDbContext db, StorageProvider storage, T entity, string noun, CancellationToken cancellationToken)
        where T : class, IBinnable
    {
        ArgumentNullException.ThrowIfNull(entity);
        ArgumentNullException.ThrowIfNull(storage);
        if (entity.DeletedAt is null)
        {
            return null;
        }

        entity.DeletedAt = null;
        entity.DeletedBy = null;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            return ServiceError.Conflict($"The name '{entity.Name}' now belongs to another {noun}; rename or delete that one, then restore this one.");
        }
    }
}
