# Warnings for bulwark's own targets only; dependencies come in as SYSTEM includes.
function(bulwark_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)
  if(BULWARK_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
