using Cadre.Auth;
using Cadre.Common;
using Cadre.Notifications;
using Cadre.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cadre.Users;

/// <summary>How a sign-in attempt ended.</summary>
internal enum SignInStatus
{
    Succeeded,
    InvalidCredentials,
    LockedOut,
    Disabled,
}

internal sealed record SignInOutcome(SignInStatus Status, User? User = null, DateTime? LockedUntil = null);

/// <summary>People: accounts, passwords, sign-in with lockout, and what instance admins do to them.</summary>
internal sealed class UserService(
    CadreDbContext db,
    StorageProvider storage,
    IdGenerator ids,
    TimeProvider time,
    IPasswordHasher<User> hasher,
    PasswordPolicy policy,
    OneTimeTokenService tokens,
    IEmailSender email,
    IOptions<AuthOptions> options)
{
    // Verified against when no account matches, so an unknown address costs as long as a wrong password.
    private static readonly Lazy<string> DummyHash = new(() => new PasswordHasher<User>().HashPassword(null!, "no account has this password"));

    public async Task<ServiceResult<UserResponse>> CreateAsync(CreateUserRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        InstanceRole? instanceRole = null;
        var errors = new ValidationErrors();
        if (request.InstanceRole is not null)
        {
            if (request.InstanceRole == "admin")
            {
                instanceRole = InstanceRole.Admin;
            }
            else
            {
                errors.Add("instanceRole", "Must be 'admin' or omitted (there is one instance owner, the first user).");
            }
        }

        var result = await CreateUserAsync(request.Email, request.DisplayName, request.Password, instanceRole, passwordRequired: false, errors, cancellationToken);
        return result.Value is { } user ? ToResponse(user) : result.Error!;
    }

    /// <summary>Validates and adds an account; the building block of admin creation, setup and invitations.</summary>
    internal async Task<ServiceResult<User>> CreateUserAsync(
        string? emailAddress, string? displayName, string? password, InstanceRole? instanceRole, bool passwordRequired,
        ValidationErrors errors, CancellationToken cancellationToken)
    {
        var address = EmailAddress.Validate(emailAddress, out var emailError);
        if (emailError is not null)
        {
            errors.Add("email", emailError);
        }

        Text.ValidateLabel(displayName, "displayName", 100, errors);
        if (password is not null || passwordRequired)
        {
            policy.Validate(password, address, "password", errors);
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var now = time.GetUtcNowTruncated();
        var user = new User
        {
            Id = ids.NewId(User.IdPrefix),
            Email = address!,
            NormalizedEmail = EmailAddress.Normalize(address!),
            DisplayName = displayName!.Trim(),
            Status = UserStatus.Active,
            InstanceRole = instanceRole,
            SecurityStamp = NewStamp(),
            Version = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (password is not null)
        {
            user.PasswordHash = hasher.HashPassword(user, password);
        }

        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (storage.IsUniqueViolation(ex))
        {
            db.Entry(user).State = EntityState.Detached;
            return ServiceError.Conflict($"An account with the address '{address}' already exists.");
        }

        return user;
    }

    public async Task<UserResponse?> GetAsync(string id, CancellationToken cancellationToken) =>
        await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, cancellationToken) is { } user ? ToResponse(user) : null;

    /// <summary>Lists accounts newest first, optionally those whose address or name contains <paramref name="search"/>.</summary>
    public async Task<ServiceResult<Page<UserResponse>>> ListAsync(string? search, string? status, PageRequest page, CancellationToken cancellationToken)
    {
        var query = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var term = search.Trim().ToLowerInvariant();
#pragma warning disable CA1304, CA1311, CA1862 // Translated to SQL lower()/LIKE by EF Core; the culture-aware overloads do not translate.
            query = query.Where(u => u.NormalizedEmail.Contains(term) || u.DisplayName.ToLower().Contains(term));
#pragma warning restore CA1304, CA1311, CA1862
        }

        if (status is not null)
        {
            if (!WireNames.TryParseUserStatus(status, out var wanted))
            {
                return ServiceError.Validation("status", "Must be 'active' or 'disabled'.");
            }

            query = query.Where(u => u.Status == wanted);
        }

        return (await query.ToPageAsync(u => u.Id, page, cancellationToken)).Map(ToResponse);
    }

    /// <summary>What an instance admin may change of an account. The last active instance owner stays one.</summary>
    public async Task<ServiceResult<UserResponse>> UpdateAsync(
        string id, UpdateUserRequest request, Caller admin, VersionPrecondition? precondition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(admin);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (user is null)
        {
            return ServiceError.NotFound($"User '{id}' not found.");
        }

        if (precondition is not null && !precondition.IsMetBy(user.Version))
        {
            return ServiceError.PreconditionFailed($"{precondition.Describe()}, but the user is at version {user.Version}.");
        }

        var errors = new ValidationErrors();
        ValidateProfile(request.DisplayName, request.AvatarUrl, errors);
        UserStatus? status = null;
        if (request.Status is not null)
        {
            if (WireNames.TryParseUserStatus(request.Status, out var parsed))
            {
                status = parsed;
            }
            else
            {
                errors.Add("status", "Must be 'active' or 'disabled'.");
            }
        }

        var changesRole = request.InstanceRole is not null;
        InstanceRole? instanceRole = null;
        if (changesRole && request.InstanceRole != "none")
        {
            if (WireNames.TryParseInstanceRole(request.InstanceRole, out var parsed))
            {
                instanceRole = parsed;
            }
            else
            {
                errors.Add("instanceRole", "Must be 'owner', 'admin' or 'none'.");
            }
        }

        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        var touchesOwner = user.InstanceRole == InstanceRole.Owner || instanceRole == InstanceRole.Owner;
        if ((changesRole || status is not null) && touchesOwner && admin.InstanceRole != InstanceRole.Owner)
        {
            return ServiceError.Forbidden("Only an instance owner may change an instance owner's role or status, or make someone owner.");
        }

        var losesOwner = user.InstanceRole == InstanceRole.Owner && user.Status == UserStatus.Active
            && ((changesRole && instanceRole != InstanceRole.Owner) || status == UserStatus.Disabled);
        if (losesOwner && !await db.Users.AnyAsync(u => u.Id != user.Id && u.InstanceRole == InstanceRole.Owner && u.Status == UserStatus.Active, cancellationToken))
        {
            return ServiceError.Conflict("This is the last active instance owner; make another user owner first.");
        }

        user.DisplayName = request.DisplayName?.Trim() ?? user.DisplayName;
        user.AvatarUrl = request.AvatarUrl is null ? user.AvatarUrl : request.AvatarUrl.Length == 0 ? null : request.AvatarUrl;
        if (changesRole)
        {
            user.InstanceRole = instanceRole;
        }

        if (status is { } newStatus && newStatus != user.Status)
        {
            user.Status = newStatus;
            // Disabling ends every session now; re-enabling does not bring old ones back.
            user.SecurityStamp = NewStamp();
        }

        return await SaveAsync(user, cancellationToken);
    }

    public async Task<ServiceResult<UserResponse>> UpdateSelfAsync(string userId, UpdateMeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = await db.Users.SingleAsync(u => u.Id == userId, cancellationToken);
        var errors = new ValidationErrors();
        ValidateProfile(request.DisplayName, request.AvatarUrl, errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        user.DisplayName = request.DisplayName?.Trim() ?? user.DisplayName;
        user.AvatarUrl = request.AvatarUrl is null ? user.AvatarUrl : request.AvatarUrl.Length == 0 ? null : request.AvatarUrl;
        return await SaveAsync(user, cancellationToken);
    }

    /// <summary>Changes the caller's password after checking the current one; every session of theirs ends.</summary>
    public async Task<ServiceResult<UserResponse>> ChangePasswordAsync(string userId, ChangePasswordRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = await db.Users.SingleAsync(u => u.Id == userId, cancellationToken);
        var errors = new ValidationErrors();
        if (user.PasswordHash is null || request.CurrentPassword is null
            || hasher.VerifyHashedPassword(user, user.PasswordHash, request.CurrentPassword) == PasswordVerificationResult.Failed)
        {
            errors.Add("currentPassword", "Is not your current password.");
        }

        policy.Validate(request.NewPassword, user.Email, "newPassword", errors);
        if (!errors.IsEmpty)
        {
            return ServiceError.Validation(errors);
        }

        SetPassword(user, request.NewPassword!);
        return await SaveAsync(user, cancellationToken);
    }

    /// <summary>
    /// Checks an address and password. Failures count towards a lockout, atomically, so parallel
    /// guesses cannot slip past the threshold; an unknown address takes as long as a known one.
    /// </summary>
    public async Task<SignInOutcome> SignInAsync(string? emailAddress, string? password, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNowTruncated();
        var normalized = emailAddress is null ? "" : EmailAddress.Normalize(emailAddress);
        var user = normalized.Length == 0 ? null : await db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, cancellationToken);
        if (user is null || user.PasswordHash is null || string.IsNullOrEmpty(password) || password.Length > PasswordPolicy.MaxLength)
        {
            hasher.VerifyHashedPassword(null!, DummyHash.Value, password ?? "");
            return new SignInOutcome(SignInStatus.InvalidCredentials);
        }

        if (user.LockedUntil > now)
        {
            return new SignInOutcome(SignInStatus.LockedOut, LockedUntil: user.LockedUntil);
        }

        var verification = hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (verification == PasswordVerificationResult.Failed)
        {
            return await RecordFailureAsync(user.Id, now, cancellationToken);
        }

        if (user.Status != UserStatus.Active)
        {
            return new SignInOutcome(SignInStatus.Disabled);
        }

        if (verification == PasswordVerificationResult.SuccessRehashNeeded)
        {
            // An older hash format or iteration count: upgrade it now that the password is known.
            user.PasswordHash = hasher.HashPassword(user, password);
        }

        user.FailedSignIns = 0;
        user.LockedUntil = null;
        user.LastSignInAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return new SignInOutcome(SignInStatus.Succeeded, user);
    }

    /// <summary>Makes a password reset link for a user and mails it when SMTP is configured; otherwise returns it.</summary>
    public async Task<ServiceResult<OneTimeLinkResponse>> IssuePasswordResetAsync(string userId, string baseUrl, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (user is null)
        {
            return ServiceError.NotFound($"User '{userId}' not found.");
        }

        return await SendResetAsync(user, baseUrl, cancellationToken);
    }

    /// <summary>Self-service: mails a reset link if the address has an account and SMTP is configured; says nothing either way.</summary>
    public async Task ForgotPasswordAsync(string? emailAddress, string baseUrl, CancellationToken cancellationToken)
    {
        if (!email.IsConfigured || string.IsNullOrWhiteSpace(emailAddress))
        {
            return;
        }

        var normalized = EmailAddress.Normalize(emailAddress);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedEmail == normalized && u.Status == UserStatus.Active, cancellationToken);
        if (user is not null)
        {
            await SendResetAsync(user, baseUrl, cancellationToken);
        }
    }

    /// <summary>Sets a new password from a reset link; ends every session and clears a lockout.</summary>
    public async Task<ServiceResult<UserResponse>> ResetPasswordAsync(ResetPasswordRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var redemption = await tokens.RedeemAsync(OneTimeTokenPurpose.PasswordReset, request.Token, cancellationToken);
        if (!redemption.Succeeded)
        {
            return ServiceError.Validation("token", redemption.Failure!);
        }

        var user = await db.Users.SingleAsync(u => u.Id == redemption.UserId, cancellationToken);
        var errors = new ValidationErrors();
        policy.Validate(request.Password, user.Email, "password", errors);
        if (!errors.IsEmpty)
        {
            // The link stays usable for a better password: give the redemption back.
            await db.OneTimeTokens.Where(t => t.TokenHash == ApiKeySecret.Hash(request.Token!))
                .ExecuteUpdateAsync(set => set.SetProperty(t => t.UsedAt, (DateTime?)null), cancellationToken);
            return ServiceError.Validation(errors);
        }

        SetPassword(user, request.Password!);
        user.FailedSignIns = 0;
        user.LockedUntil = null;
        return await SaveAsync(user, cancellationToken);
    }

    internal static UserResponse ToResponse(User user) => new(
        user.Id,
        user.Email,
        user.DisplayName,
        user.AvatarUrl,
        user.Status.ToWireName(),
        user.InstanceRole?.ToWireName(),
        user.PasswordHash is not null,
        user.Version,
        user.CreatedAt,
        user.UpdatedAt,
        user.LastSignInAt);

    private async Task<OneTimeLinkResponse> SendResetAsync(User user, string baseUrl, CancellationToken cancellationToken)
    {
        await tokens.RevokeAllAsync(OneTimeTokenPurpose.PasswordReset, user.Id, cancellationToken);
        var (token, expiresAt) = await tokens.IssueAsync(OneTimeTokenPurpose.PasswordReset, user.Id, options.Value.PasswordResetLifetime, cancellationToken);
        var link = $"{baseUrl.TrimEnd('/')}/reset-password?token={token}";
        if (!email.IsConfigured)
        {
            return new OneTimeLinkResponse("none", link, expiresAt);
        }

        await email.SendAsync(new EmailMessage(user.Email, "Set your Cadre password",
            $"Hello {user.DisplayName},\n\nFollow this link to set a new password for Cadre:\n\n{link}\n\n" +
            $"It works once, until {expiresAt:u}. If you did not ask for it, ignore this message."), cancellationToken);
        return new OneTimeLinkResponse("email", null, expiresAt);
    }

    private async Task<SignInOutcome> RecordFailureAsync(string userId, DateTime now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await db.Users.Where(u => u.Id == userId)
            .ExecuteUpdateAsync(set => set.SetProperty(u => u.FailedSignIns, u => u.FailedSignIns + 1), cancellationToken);
        var lockedUntil = now + settings.LockoutDuration;
        var locked = await db.Users.Where(u => u.Id == userId && u.FailedSignIns >= settings.LockoutThreshold)
            .ExecuteUpdateAsync(set => set.SetProperty(u => u.LockedUntil, lockedUntil).SetProperty(u => u.FailedSignIns, 0), cancellationToken);
        return locked == 1
            ? new SignInOutcome(SignInStatus.LockedOut, LockedUntil: lockedUntil)
            : new SignInOutcome(SignInStatus.InvalidCredentials);
    }

    private void SetPassword(User user, string password)
    {
        user.PasswordHash = hasher.HashPassword(user, password);
        user.SecurityStamp = NewStamp();
    }

    private async Task<ServiceResult<UserResponse>> SaveAsync(User user, CancellationToken cancellationToken)
    {
        if (db.Entry(user).Properties.Any(p => p.IsModified))
        {
            user.Version++;
            user.UpdatedAt = time.GetUtcNowTruncated();
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return ServiceError.Conflict("The user was changed by another request at the same time. Retry.");
        }

        return ToResponse(user);
    }

    private static void ValidateProfile(string? displayName, string? avatarUrl, ValidationErrors errors)
    {
        if (displayName is not null)
        {
            Text.ValidateLabel(displayName, "displayName", 100, errors);
        }

        if (avatarUrl is { Length: > 0 }
            && (avatarUrl.Length > 2048 || !Uri.TryCreate(avatarUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")))
        {
            errors.Add("avatarUrl", "Must be an http(s) URL of at most 2048 characters, or empty to remove the avatar.");
        }
    }

    private static string NewStamp() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
}
