using System.Net;
using Cadre.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cadre.Server.Tests.People;

public sealed class SignInTests
{
    [Theory, AllDatabases]
    public async Task Login_RightPassword_SetsAPrivateSessionCookieThatCallsTheApi(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync(displayName: "Grace Hopper");
        using var client = app.Client();

        var response = await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email.ToUpperInvariant(), password = user.Password });

        await response.ShouldBeAsync(HttpStatusCode.OK);
        var cookie = response.SetCookie("cadre_session");
        cookie.ShouldNotBeNull();
        cookie.ShouldContain("httponly", Case.Insensitive);
        cookie.ShouldContain("samesite=strict", Case.Insensitive);
        var body = await response.ReadObjectAsync();
        ((string)body["csrfToken"]!).ShouldNotBeNullOrEmpty();
        body.ToJsonString().ShouldNotContain(user.Password);
        var me = await (await client.GetAsync("/api/v1/me")).ReadObjectAsync();
        ((string)me["authentication"]!).ShouldBe("session");
        ((string)me["actor"]!["name"]!).ShouldBe("Grace Hopper");
        ((string)me["user"]!["email"]!).ShouldBe(user.Email);
        me["user"]!["lastSignInAt"].ShouldNotBeNull();
    }

    [Theory]
    [AllDatabases(true)]
    [AllDatabases(false)]
    public async Task Login_BehindATlsProxy_MarksTheCookieSecureOnlyWhenForwardedHeadersAreTrusted(DatabaseKind db, bool trusted)
    {
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?> { ["Cadre:Http:TrustForwardedHeaders"] = trusted.ToString() });
        var user = await app.CreateUserAsync();
        using var client = app.Client();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/login") { Content = Api.JsonContent(new { email = user.Email, password = user.Password }) };
        request.Headers.Add("X-Forwarded-Proto", "https");

        var response = await client.SendAsync(request);

        await response.ShouldBeAsync(HttpStatusCode.OK);
        response.SetCookie("cadre_session")!.Contains("secure", StringComparison.OrdinalIgnoreCase).ShouldBe(trusted);
    }

    [Theory]
    [AllDatabases("wrong password entirely")]
    [AllDatabases("")]
    public async Task Login_WrongPassword_Returns401WithoutSayingWhich(DatabaseKind db, string password)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync();
        using var client = app.Client();

        var wrong = await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password });
        var unknown = await client.PostJsonAsync("/api/v1/auth/login", new { email = "nobody-" + user.Email, password = user.Password });

        var wrongProblem = await wrong.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        var unknownProblem = await unknown.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        wrongProblem.Detail.ShouldBe(unknownProblem.Detail);
        wrong.SetCookie("cadre_session").ShouldBeNull();
        await (await client.GetAsync("/api/v1/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory, AllDatabases]
    public async Task Login_RepeatedFailures_LockTheAccountUntilTheLockoutEnds(DatabaseKind db)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?> { ["Cadre:Auth:LockoutThreshold"] = "3" },
            services => services.AddSingleton<TimeProvider>(clock));
        var user = await app.CreateUserAsync();
        using var client = app.Client();
        for (var i = 0; i < 2; i++)
        {
            await (await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = "not the password" })).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        }

        var third = await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = "not the password" });
        var rightButLocked = await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password });

        (await third.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests)).Title.ShouldBe("Account locked");
        (await rightButLocked.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests)).Detail!.ShouldContain("locked");
        rightButLocked.Headers.RetryAfter!.Delta!.Value.TotalSeconds.ShouldBeInRange(1, 300);

        clock.Advance(TimeSpan.FromMinutes(5));

        await (await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Login_ParallelWrongPasswords_CannotSlipPastTheLockout(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?> { ["Cadre:Auth:LockoutThreshold"] = "5" });
        var user = await app.CreateUserAsync();
        using var client = app.Client();

        var attempts = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = "guess" })));

        attempts.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests).ShouldBeGreaterThan(0);
        await (await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })).ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
    }

    [Theory, AllDatabases]
    public async Task Login_TooManyAttemptsFromOneAddress_AreRateLimited(DatabaseKind db)
    {
        await using var app = await CadreApp.StartAsync(db, new Dictionary<string, string?> { ["Cadre:Auth:SignInAttemptsPerMinute"] = "3" });
        using var client = app.Client();
        var statuses = new List<HttpStatusCode>();

        for (var i = 0; i < 5; i++)
        {
            statuses.Add((await client.PostJsonAsync("/api/v1/auth/login", new { email = $"spray{i}@example.com", password = "whatever it is" })).StatusCode);
        }

        statuses.Take(3).ShouldAllBe(s => s == HttpStatusCode.Unauthorized);
        statuses.Skip(3).ShouldAllBe(s => s == HttpStatusCode.TooManyRequests);
    }

    [Theory, AllDatabases]
    public async Task Login_DisabledAccount_Returns403AndNoSession(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync();
        using var admin = app.AdminClient();
        await (await admin.PatchJsonAsync($"/api/v1/users/{user.Id}", new { status = "disabled" })).ShouldBeAsync(HttpStatusCode.OK);
        using var client = app.Client();

        var response = await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password });

        (await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden)).Detail!.ShouldContain("disabled");
        response.SetCookie("cadre_session").ShouldBeNull();
    }

    [Theory, AllDatabases]
    public async Task Logout_EndsTheSessionEvenForACopiedCookie(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync();
        using var browser = await app.SignInAsync(user);
        using var stolen = CopySessionCookie(browser);
        await (await stolen.GetAsync("/api/v1/me")).ShouldBeAsync(HttpStatusCode.OK);

        var logout = await browser.Client.PostAsync("/api/v1/auth/logout", null);

        await logout.ShouldBeAsync(HttpStatusCode.NoContent);
        await (await browser.Client.GetAsync("/api/v1/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await (await stolen.GetAsync("/api/v1/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Theory, AllDatabases]
    public async Task ChangePassword_EndsOtherSessionsAndKeepsThisOne(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync();
        using var here = await app.SignInAsync(user);
        using var elsewhere = await app.SignInAsync(user);
        const string newPassword = "an entirely new passphrase";

        var response = await here.Client.PostJsonAsync("/api/v1/me/password", new { currentPassword = user.Password, newPassword });

        await response.ShouldBeAsync(HttpStatusCode.OK);
        here.UseCsrfToken(response.Headers.GetValues("X-CSRF-Token").Single());
        await (await here.Client.GetAsync("/api/v1/me")).ShouldBeAsync(HttpStatusCode.OK);
        await (await here.Client.PatchJsonAsync("/api/v1/me", new { displayName = "Still here" })).ShouldBeAsync(HttpStatusCode.OK);
        await (await elsewhere.Client.GetAsync("/api/v1/me")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        using var client = app.Client();
        await (await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = user.Password })).ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await (await client.PostJsonAsync("/api/v1/auth/login", new { email = user.Email, password = newPassword })).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task ChangePassword_WrongCurrentOrWeakNew_Returns422NamingEach(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync();
        using var browser = await app.SignInAsync(user);

        var response = await browser.Client.PostJsonAsync("/api/v1/me/password", new { currentPassword = "not it at all", newPassword = "short" });

        (await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["currentPassword", "newPassword"], ignoreOrder: true);
        await (await browser.Client.GetAsync("/api/v1/me")).ShouldBeAsync(HttpStatusCode.OK);
    }

    [Theory, AllDatabases]
    public async Task Passwords_AreStoredInTheFrameworksUpgradableHashFormat(DatabaseKind db)
    {
        var app = await SharedApps.Get(db);
        var user = await app.CreateUserAsync();

        using var scope = app.Services.CreateScope();
        var stored = scope.ServiceProvider.GetRequiredService<CadreDbContext>().Users.Single(u => u.Id == user.Id);

        stored.PasswordHash.ShouldNotBeNull();
        stored.PasswordHash.ShouldNotContain(user.Password);
        // Version 3 of ASP.NET Core Identity's format: a marker byte 0x01, then PRF, iteration count and salt, all self-describing.
        Convert.FromBase64String(stored.PasswordHash)[0].ShouldBe((byte)0x01);
        new PasswordHasher<Cadre.Users.User>().VerifyHashedPassword(stored, stored.PasswordHash, user.Password).ShouldNotBe(PasswordVerificationResult.Failed);
    }

    [Theory]
    [AllDatabases("short")]
    [AllDatabases("passwordpassword")]
    [AllDatabases("aaaaaaaaaaaaaaaa")]
    public async Task CreateUser_WeakPassword_Returns422(DatabaseKind db, string password)
    {
        var app = await SharedApps.Get(db);
        using var admin = app.AdminClient();

        var response = await admin.PostJsonAsync("/api/v1/users", new { email = $"{Api.UniqueName()}@example.com", displayName = "Weak", password });

        (await response.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Errors!.Keys.ShouldBe(["password"]);
    }

    /// <summary>A second client that sends only the first one's session cookie, as an attacker holding a copy would.</summary>
    private static HttpClient CopySessionCookie(Browser browser)
    {
        var copy = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = browser.Client.BaseAddress };
        copy.DefaultRequestHeaders.Add("Cookie", browser.Cookies.GetCookieHeader(browser.Client.BaseAddress!));
        return copy;
    }
}
