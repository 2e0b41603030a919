using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Cadre.E2E.Infrastructure;

/// <summary>
/// One real Cadre server process on 127.0.0.1 with a fresh SQLite data directory, and one headless
/// Debian Chromium driven by Playwright. Each test class gets its own (an xunit class fixture), so a
/// first-run test really meets an empty instance.
/// </summary>
public abstract partial class CadreBrowserServer : IAsyncLifetime
{
    /// <summary>Debian's Chromium (apt-get install chromium); Playwright never downloads a browser here.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public ServerProcess Server { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string Url => Server.Url;

    /// <summary>The environment the server starts with, beyond a fresh working (and so data) directory.</summary>
    protected virtual IDictionary<string, string> Environment => new Dictionary<string, string>();

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"The browser tests drive Debian's Chromium at {ChromiumPath}: apt-get install -y chromium (or CADRE_TEST_BROWSER=off to skip them).");
        }

        Server = ServerProcess.Start(TestDirectories.Create("e2e"), Environment);
        await Server.WaitUntilListeningAsync();

        System.Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        // A deadline for each expectation, not a timing: generous, for a machine busy with other work.
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // --no-sandbox: CI runs as root; the others keep Chromium off the network it cannot reach here.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }

    /// <summary>
    /// Runs a test in a fresh browser context (its own cookies) on a page at the server; on failure saves
    /// a full-page screenshot to tests/e2e/TestResults/screenshots/&lt;test&gt;.png and says where.
    /// </summary>
    public async Task InPageAsync(Func<IPage, Task> test, [CallerMemberName] string name = "")
    {
        await using var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Url, ViewportSize = new() { Width = 1280, Height = 800 } });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        try
        {
            await test(page);
        }
        catch (Exception failure)
        {
            var path = Path.Combine(ScreenshotDirectory(), $"{GetType().Name}.{name}.png");
            try
            {
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
            }
            catch (PlaywrightException screenshotFailure)
            {
                throw new AggregateException($"The test failed, and so did its screenshot ({screenshotFailure.Message}).", failure);
            }

            throw new InvalidOperationException($"{failure.Message}\nScreenshot: {path}\nServer output:\n{Server.Output}", failure);
        }
    }

    /// <summary>
    /// Saves a screenshot of the page as docs/screenshots/&lt;name&gt;.png when <c>CADRE_SCREENSHOTS=docs</c> (how the
    /// README's pictures are refreshed; docs/web.md); otherwise does nothing, so a test run leaves the tree as it was.
    /// </summary>
    public static async Task DocScreenshotAsync(IPage page, string name)
    {
        if (!string.Equals(System.Environment.GetEnvironmentVariable("CADRE_SCREENSHOTS"), "docs", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var directory = Path.Combine(RepositoryRoot()?.FullName ?? throw new InvalidOperationException("No Cadre.slnx above the test output."), "docs", "screenshots");
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, $"{name}.png") });
    }

    /// <summary>The setup code the server printed with its setup link.</summary>
    public string SetupCode() =>
        SetupLink().Match(Server.Output) is { Success: true } match ? match.Groups["code"].Value : throw new InvalidOperationException($"No setup link printed:\n{Server.Output}");

    private static DirectoryInfo? RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Cadre.slnx")))
        {
            directory = directory.Parent;
        }

        return directory;
    }

    private static string ScreenshotDirectory()
    {
        var directory = RepositoryRoot();
        var path = directory is null
            ? Path.Combine(AppContext.BaseDirectory, "screenshots")
            : Path.Combine(directory.FullName, "tests", "e2e", "TestResults", "screenshots");
        Directory.CreateDirectory(path);
        return path;
    }

    [GeneratedRegex(@"/setup\?code=(?<code>[A-Za-z0-9_\-]+)")]
    private static partial Regex SetupLink();
}

/// <summary>An instance nobody has set up: the first-run screen.</summary>
public sealed class EmptyInstance : CadreBrowserServer;

/// <summary>An instance with an owner (made unattended) and an admin key for arranging data through the API.</summary>
public sealed class InstanceWithOwner : CadreBrowserServer
{
    public const string OwnerEmail = "owner@example.com";
    public const string OwnerPassword = "correct horse battery staple";
    public const string AdminKey = "cadre_e2eAdminKeyForBrowserTestsOnly0123456789abcdefghijk";

    protected override IDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["CADRE_ADMIN_EMAIL"] = OwnerEmail,
        ["CADRE_ADMIN_PASSWORD"] = OwnerPassword,
        ["CADRE_ADMIN_KEY"] = AdminKey,
    };

    /// <summary>Opens <paramref name="path"/>, which leads to sign-in, signs in as the owner and lands back on it.</summary>
    public static Task SignInAsync(IPage page, string path) => SignInAsync(page, path, OwnerEmail, OwnerPassword);

    /// <summary>Opens <paramref name="path"/>, which leads to sign-in, signs in with the address and password and lands back on it.</summary>
    public static async Task SignInAsync(IPage page, string path, string email, string password)
    {
        await page.GotoAsync(path);
        await Expect(page).ToHaveURLAsync(new Regex("/login\\?next="));
        await page.GetByLabel("E-mail address").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(Regex.Escape(path) + "$"));
    }

    /// <summary>An HTTP client acting with the instance admin key.</summary>
    public HttpClient Admin() => Server.Client(AdminKey);

    public async Task<string> CreateWorkspaceAsync(string name, string displayName)
    {
        using var admin = Admin();
        using var response = await admin.PostAsJsonAsync("/api/v1/workspaces", new { name, displayName });
        response.EnsureSuccessStatusCode();
        return name;
    }

    /// <summary>
    /// Makes an account that signs in with <paramref name="password"/> (no instance role) and adds it to the workspace
    /// with <paramref name="role"/>; answers its user ID.
    /// </summary>
    public async Task<string> CreateMemberAsync(string workspace, string email, string displayName, string password, string role)
    {
        using var admin = Admin();
        using var created = await admin.PostAsJsonAsync("/api/v1/users", new { email, displayName, password });
        if (!created.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating user {email}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        var user = await created.Content.ReadFromJsonAsync<JsonObject>();
        using var added = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/members", new { email, role });
        if (!added.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Adding {email} to {workspace} as {role}: {(int)added.StatusCode} {await added.Content.ReadAsStringAsync()}");
        }

        return (string)user!["id"]!;
    }

    public async Task CreateWorkflowAsync(string workspace, string name, string description)
    {
        using var admin = Admin();
        using var response = await admin.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/workflows", new
        {
            name,
            description,
            steps = new[] { new { id = "only", activity = new { uniqueIdentifier = "transform" }, input = new JsonObject { ["ok"] = true } } },
        });
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating workflow {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}

/// <summary>A browser test, reported as skipped under <c>CADRE_TEST_BROWSER=off</c>.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (string.Equals(System.Environment.GetEnvironmentVariable("CADRE_TEST_BROWSER"), "off", StringComparison.OrdinalIgnoreCase))
        {
            Skip = "CADRE_TEST_BROWSER=off";
        }
    }
}
