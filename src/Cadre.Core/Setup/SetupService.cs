using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Cadre.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Setup;

/// <summary>
/// The first user. On an empty instance either the operator's CADRE_ADMIN_EMAIL/PASSWORD make
/// the instance owner at start, or a one-time setup code is printed with which a person makes
/// themself owner through <c>POST /api/v1/setup</c>.
/// </summary>
internal sealed class SetupService(
    CadreDbContext db,
    UserService users,
    OneTimeTokenService tokens,
    IOptions<AuthOptions> options,
    ILogger<SetupService> logger)
{
    /// <summary>Runs at start. Returns a new setup code to print, or null when no one needs one.</summary>
    /// <exception cref="OptionsValidationException">CADRE_ADMIN_EMAIL/PASSWORD are set but not usable.</exception>
    public async Task<(string Code, DateTime ExpiresAt)?> PrepareAsync(CancellationToken cancellationToken)
    {
        if (!await IsRequiredAsync(cancellationToken))
        {
            return null;
        }

        var settings = options.Value;
        if (!string.IsNullOrEmpty(settings.AdminEmail))
        {
            var errors = new ValidationErrors();
            var made = await users.CreateUserAsync(settings.AdminEmail, settings.AdminEmail.Split('@')[0], settings.AdminPassword,
                InstanceRole.Owner, passwordRequired: true, errors, cancellationToken);
            if (made.Error is { } error)
            {
                var reasons = (error.Errors ?? new Dictionary<string, string[]>()).Select(e => $"{Setting(e.Key)} {string.Join(" ", e.Value)}");
                throw new OptionsValidationException(nameof(AuthOptions), typeof(AuthOptions), [.. reasons, error.Detail]);
            }

            logger.LogInformation("Created the instance owner {Email} from CADRE_ADMIN_EMAIL", made.Value!.Email);
            return null;
        }

        // Only the newest code works: a restart before set-up prints a fresh one.
        await tokens.RevokeAllAsync(OneTimeTokenPurpose.Setup, null, cancellationToken);
        return await tokens.IssueAsync(OneTimeTokenPurpose.Setup, null, settings.SetupCodeLifetime, cancellationToken);
    }

    public async Task<bool> IsRequiredAsync(CancellationToken cancellationToken) => !await db.Users.AnyAsync(cancellationToken);

    /// <summary>Makes the first user, instance owner, with the printed setup code.</summary>
    public async Task<ServiceResult<User>> CompleteAsync(SetupRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!await IsRequiredAsync(cancellationToken))
        {
            return ServiceError.Conflict("This instance is already set up; sign in instead.");
        }

        var redemption = await tokens.RedeemAsync(OneTimeTokenPurpose.Setup, request.Code, cancellationToken);
        if (!redemption.Succeeded)
        {
            return ServiceError.Validation("code", redemption.Failure! + " The server prints a new code at every start until set-up is done.");
        }

        return await users.CreateUserAsync(request.Email, request.DisplayName, request.Password, InstanceRole.Owner,
            passwordRequired: true, new ValidationErrors(), cancellationToken);
    }

    private static string Setting(string field) => field switch
    {
        "email" => "CADRE_ADMIN_EMAIL",
        "password" => "CADRE_ADMIN_PASSWORD",
        _ => field,
    };
}
