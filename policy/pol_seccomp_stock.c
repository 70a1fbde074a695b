/* The stock seccomp profile compiled into the binary, so "default" never depends on a file at run time. */

/* .incbin looks the file up in the include path (the build passes -I of the
 * source root);
 * the Makefile lists the JSON as a prerequisite of this object. */
__asm__(".section .rodata\n"
        ".global sr_seccomp_default_json\n"
        ".type sr_seccomp_default_json, @object\n"
        ".balign 16\n"
        "sr_seccomp_default_json:\n"
        ".incbin \"policy/stock/seccomp-default.json\"\n"
        "sr_seccomp_default_json_end:\n"
        ".byte 0\n"
        ".global sr_seccomp_default_json_len\n"
        ".type sr_seccomp_default_json_len, @object\n"
        ".balign 4\n"
        "sr_seccomp_default_json_len:\n"
        ".long sr_seccomp_default_json_end - sr_seccomp_default_json\n"
        ".previous\n");
