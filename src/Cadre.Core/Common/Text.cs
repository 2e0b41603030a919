namespace Cadre.Common;

/// <summary>Checks shared by every free-text field a person types: display names, descriptions.</summary>
public static class Text
{
    /// <summary>Validates a required single-line label, adding an error named <paramref name="field"/> when it is not.</summary>
    public static void ValidateLabel(string? value, string field, int maxLength, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(field, "Is required and must not be blank.");
        }
        else if (value.Length > maxLength)
        {
            errors.Add(field, $"Must be at most {maxLength} characters.");
        }
        else if (value.Any(char.IsControl))
        {
            errors.Add(field, "Must not contain control characters such as newlines or tabs.");
        }
    }
}
