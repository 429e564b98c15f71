// Radiograph I/O (DICOM, PNG, JPEG), reference preprocessing, dictionary transforms, report cleaning and dataset adapters.
export {};
