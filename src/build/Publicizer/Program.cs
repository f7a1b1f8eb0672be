using System;
using System.IO;
using System.Linq;
using Mono.Cecil;

namespace Microsoft.ML.Kare.Build;

/// <summary>
/// Writes copies of .NET assemblies whose non-public types and members are public, for the C# compiler only.
/// </summary>
/// <remarks>
/// Usage: <c>Microsoft.ML.Kare.Publicizer &lt;output directory&gt; &lt;assembly.dll&gt;...</c>. Each assembly is written to the
/// output directory under its own file name, with its XML documentation file (if any) copied next to it. The assembly
/// identity (name, version, public key) is unchanged, so code compiled against a copy binds to the real assembly at
/// run time; that code must declare <c>[assembly: IgnoresAccessChecksTo("…")]</c> so the runtime lets it through.
/// <para>
/// Rules (chosen so that overrides written against a copy are valid C# and valid at run time):
/// <list type="bullet">
/// <item>Types: every non-public type becomes public (nested ones nested-public), except compiler-generated types and
/// polyfills in the <c>System</c> and <c>Microsoft.CodeAnalysis</c> namespaces, which would clash with the compiler's own.</item>
/// <item>Fields: public, except compiler-generated ones and the backing field of a field-like event (it has the event's name).</item>
/// <item>Non-virtual methods and constructors (and accessors): public. Static constructors are left alone.</item>
/// <item>Virtual methods: <c>private protected</c> becomes <c>protected</c> and <c>internal</c> becomes public, so an
/// override written outside the assembly is <c>protected override</c> or <c>public override</c>, never less accessible
/// than the real member. <c>protected</c> and <c>protected internal</c> stay as they are (overridden as <c>protected</c>
/// from another assembly). Private virtual methods (explicit interface implementations) stay private.</item>
/// </list>
/// </para>
/// </remarks>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("Usage: Microsoft.ML.Kare.Publicizer <output directory> <assembly.dll>...");
            return 2;
        }

        string outputDirectory = Path.GetFullPath(args[0]);
        string[] inputs = args.Skip(1).Select(Path.GetFullPath).ToArray();
        Directory.CreateDirectory(outputDirectory);

        using var resolver = new DefaultAssemblyResolver();
        foreach (string directory in inputs.Select(i => Path.GetDirectoryName(i)!).Distinct())
            resolver.AddSearchDirectory(directory);

        try
        {
            foreach (string input in inputs)
            {
                string output = Path.Combine(outputDirectory, Path.GetFileName(input));
                int changed = Publicize(input, output, resolver);
                Console.WriteLine($"Publicized {Path.GetFileName(input)}: {changed} types and members made accessible.");

                string documentation = Path.ChangeExtension(input, ".xml");
                if (File.Exists(documentation))
                    File.Copy(documentation, Path.ChangeExtension(output, ".xml"), overwrite: true);
            }
        }
        catch (Exception ex) when (ex is IOException or BadImageFormatException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error KAREPUB001: {ex.Message}");
            return 1;
        }
        return 0;
    }

    /// <summary>Writes a publicized copy of <paramref name="input"/> to <paramref name="output"/>; returns the number of changes.</summary>
    public static int Publicize(string input, string output, IAssemblyResolver resolver)
    {
        var readerParameters = new ReaderParameters
        {
            AssemblyResolver = resolver,
            ReadingMode = ReadingMode.Immediate,
            ReadSymbols = false,
            InMemory = true,
        };
        using var module = ModuleDefinition.ReadModule(input, readerParameters);

        int changed = 0;
        foreach (TypeDefinition type in module.GetTypes())
        {
            if (IsExcluded(type))
                continue;
            changed += PublicizeType(type);
            changed += type.Fields.Sum(field => PublicizeField(type, field));
            changed += type.Methods.Sum(PublicizeMethod);
        }

        // The copy is never signed again; it is only read by the compiler, which binds by identity, not by signature.
        module.Attributes &= ~ModuleAttributes.StrongNameSigned;

        // Write next to the target and move into place, so that an interrupted run never leaves a half-written file
        // that looks up to date.
        string temporary = output + ".tmp";
        module.Write(temporary, new WriterParameters { DeterministicMvid = true });
        File.Move(temporary, output, overwrite: true);
        return changed;
    }

    private static bool IsExcluded(TypeDefinition type)
    {
        TypeDefinition outermost = type;
        while (outermost.DeclaringType is not null)
        {
            if (IsCompilerGenerated(outermost))
                return true;
            outermost = outermost.DeclaringType;
        }
        if (IsCompilerGenerated(outermost) || outermost.Name == "<Module>")
            return true;
        string ns = outermost.Namespace;
        return ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal)
            || ns == "Microsoft.CodeAnalysis" || ns.StartsWith("Microsoft.CodeAnalysis.", StringComparison.Ordinal);
    }

    private static bool IsCompilerGenerated(IMemberDefinition member)
        => member.Name.Contains('<') || member.CustomAttributes.Any(a =>
            a.AttributeType.FullName == "System.Runtime.CompilerServices.CompilerGeneratedAttribute");

    private static int PublicizeType(TypeDefinition type)
    {
        if (type.IsNested)
        {
            if (type.IsNestedPublic)
                return 0;
            type.Attributes = (type.Attributes & ~TypeAttributes.VisibilityMask) | TypeAttributes.NestedPublic;
            return 1;
        }
        if (type.IsPublic)
            return 0;
        type.Attributes = (type.Attributes & ~TypeAttributes.VisibilityMask) | TypeAttributes.Public;
        return 1;
    }

    private static int PublicizeField(TypeDefinition type, FieldDefinition field)
    {
        if (field.IsPublic || IsCompilerGenerated(field) || type.Events.Any(e => e.Name == field.Name))
            return 0;
        field.Attributes = (field.Attributes & ~FieldAttributes.FieldAccessMask) | FieldAttributes.Public;
        return 1;
    }

    private static int PublicizeMethod(MethodDefinition method)
    {
        if (method.IsPublic || (method.IsConstructor && method.IsStatic) || method.Name.Contains('<'))
            return 0;

        MethodAttributes access;
        if (!method.IsVirtual)
            access = MethodAttributes.Public;
        else if (method.IsFamilyAndAssembly)
            access = MethodAttributes.Family;
        else if (method.IsAssembly)
            access = MethodAttributes.Public;
        else
            return 0; // protected, protected internal, private (explicit interface implementations): keep.

        method.Attributes = (method.Attributes & ~MethodAttributes.MemberAccessMask) | access;
        return 1;
    }
}
