// The recording form says the recorder's time zone offset (EPCIS eventTimeZoneOffset).
(function () {
  "use strict";
  var field = document.querySelector("[data-offset]");
  if (!field) { return; }
  var minutes = -new Date().getTimezoneOffset();
  var sign = minutes < 0 ? "-" : "+";
  minutes = Math.abs(minutes);
  function two(n) { return (n < 10 ? "0" : "") + n; }
  field.value = sign + two(Math.floor(minutes / 60)) + ":" + two(minutes % 60);
}());
