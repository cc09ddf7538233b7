package io.kvconnect.core.plugin;

import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleReader;
import java.lang.module.ModuleReference;
import java.util.Set;

/**
 * An automatic plugin module with an explicit descriptor standing in for its automatic one, so
 * that it reads only what a plugin may read.
 *
 * <p>Why: resolution makes an automatic module read every module of the parent layers, and the
 * layer's class loader then serves it every package those modules export (Jackson, picocli,
 * ClassGraph, JUCX, the connector test kit, the restricted JDK modules), bypassing the parent
 * class loader's refusal, even for a class named only in a string at run time. The stand-in is an
 * open module with the same name, version, packages (all exported, as before), main class and
 * services it provides; it requires only {@code kvconnect.api}, {@code org.slf4j} and the JDK
 * modules it may read, and {@code uses} every type its classes reference that is its own or
 * exported by those modules, so that it can still {@code ServiceLoader.load} a service it names.
 * Its reads of the other modules of its own folder, which an automatic module had, are added when
 * the layer is defined ({@link PluginLayerFactory}); a service type of another jar of its folder is
 * therefore one it can neither use nor provide (resolution needs the reads first): such jars need
 * a {@code module-info}. Its classes and resources are read from the same jar as before.
 */
final class ConfinedAutomaticModule extends ModuleReference {
    private final ModuleReference jar;

    private ConfinedAutomaticModule(ModuleDescriptor descriptor, ModuleReference jar) {
        super(descriptor, jar.location().orElse(null));
        this.jar = jar;
    }

    /**
     * The stand-in for {@code automatic}.
     *
     * @param automatic an automatic module's reference
     * @param requires the modules it may read outside its folder
     * @param readablePackages the packages those modules export to it
     * @param referenced the classes its classes reference: the services it may load, as far as
     *     their packages are its own or readable
     * @throws IllegalArgumentException if {@code automatic} is not automatic
     */
    static ConfinedAutomaticModule of(
            ModuleReference automatic, Set<String> requires, Set<String> readablePackages, Set<String> referenced) {
        ModuleDescriptor d = automatic.descriptor();
        if (!d.isAutomatic()) {
            throw new IllegalArgumentException(d.name() + " is not an automatic module");
        }
        ModuleDescriptor.Builder b = ModuleDescriptor.newOpenModule(d.name()).packages(d.packages());
        d.version().ifPresent(b::version);
        d.mainClass().ifPresent(b::mainClass);
        d.packages().forEach(b::exports);
        d.provides().forEach(b::provides);
        requires.stream().filter(r -> !r.equals("java.base")).forEach(b::requires);
        for (String type : referenced) {
            int dot = type.lastIndexOf('.');
            // (A type of the unnamed package is no service a named module can load.)
            if (dot > 0
                    && (d.packages().contains(type.substring(0, dot))
                            || readablePackages.contains(type.substring(0, dot)))) {
                try {
                    b.uses(type);
                } catch (IllegalArgumentException e) {
                    // A class file's name that is no Java name (a keyword, as obfuscators write):
                    // no service the module could name in source, so nothing is lost.
                }
            }
        }
        return new ConfinedAutomaticModule(b.build(), automatic);
    }

    @Override
    public ModuleReader open() throws IOException {
        return jar.open();
    }
}
